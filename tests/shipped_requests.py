"""Every request the shipped tasks can send, for tests of what a request holds (no server involved)."""

from analysis.config import TASKS_DIR
from analysis.llm.asking import build_request
from analysis.specs import load_run, load_task

OPTIONS = load_run("paper").options_for("mistral:7b")


def every_request_a_task_can_send(text: str = "Splenic laceration. Active extravasation.") -> list[dict]:
    """Each shipped task's request about ``text``, decided at the first token and by its written answer, for each
    item it asks."""
    requests = []
    for path in sorted(TASKS_DIR.glob("*.yaml")):
        task = load_task(path.stem)
        for decision in ("first_token", "structured"):
            asked = task.model_copy(update={"decision": decision})
            for probe in task.probes or [None]:
                requests.append(build_request("m", asked, text, OPTIONS, probe=probe))
    return requests
