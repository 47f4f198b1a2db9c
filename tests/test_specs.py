"""Task and run files: the shipped ones load and share their base, broken ones fail naming file and field."""

import pytest
import yaml

from analysis.config import RUNS_DIR
from analysis.specs import RUN_BASE, SpecError, load_run, load_site_cuts, load_task

RUNS = sorted(path.stem for path in RUNS_DIR.glob("*.yaml") if path.name != RUN_BASE)
# What a run file may set for itself: its models and where they run. Everything else comes from the base.
OWN = {"name", "description", "backend", "hosts", "workers", "models", "localization", "review"}


@pytest.mark.parametrize("name", RUNS)
def test_shipped_runs_load_with_their_tasks(name):
    run = load_run(name)
    localization = run.localization
    for task in (run.task, localization.task, localization.evidence, localization.site_probes):
        load_task(task)
    if localization.site_cuts:  # chosen for the task it cuts, and for every label set that votes
        cuts = load_site_cuts(localization.site_cuts)
        assert (cuts.task, cuts.task_version) == (localization.site_probes, load_task(localization.site_probes).version)
        assert set(cuts.cuts) == {*run.tags, "ensemble"}


def test_site_cuts_need_the_per_site_questions(tmp_path):
    (tmp_path / "mine.yaml").write_text("name: mine\ndescription: x\ntask: extravasation_zeroshot\nmodels: [{tag: m}]\n"
                                        "options: {num_ctx: 4096}\nlocalization: {task: extravasation_location, gate: m, site_cuts: embedded}\n")
    with pytest.raises(SpecError, match="site_cuts cut the probabilities of site_probes"):
        load_run("mine", tmp_path)


def test_every_shipped_run_asks_the_same_questions_and_scores_the_same_rows():
    """Moving the paper's models to vLLM or to several Ollama servers keeps the tasks, the rules, their
    combination (a row of Table 1A) and the statistics."""
    assert set(RUNS) == {"embedded", "paper", "vllm", "llama_server", "ollama_servers"}
    runs = [load_run(name) for name in RUNS]
    assert all(run.model_dump(exclude=OWN) == runs[0].model_dump(exclude=OWN) for run in runs)
    assert runs[0].combination == "context_veto"
    assert {(run.localization.task, run.localization.cut, run.localization.evidence, run.localization.site_probes)
            for run in runs} == {("extravasation_location", 0.5, "evidence_sentence", "location_probes")}
    for path in RUNS_DIR.glob("*.yaml"):
        if path.name != RUN_BASE:
            assert set(yaml.safe_load(path.read_text())) <= OWN, path.name


def test_a_run_file_changes_the_base_key_by_key(tmp_path):
    (tmp_path / RUN_BASE).write_text((RUNS_DIR / RUN_BASE).read_text())
    (tmp_path / "mine.yaml").write_text("name: mine\ndescription: x\nmodels: [{tag: m}]\nlocalization: {gate: m}\n"
                                        "options: {num_ctx: 8192}\ncombination: null\n")
    run = load_run("mine", directory=tmp_path)
    assert run.options == {"temperature": 0, "seed": 42, "num_ctx": 8192, "num_predict": 32}
    assert (run.localization.task, run.localization.gate, run.combination) == ("extravasation_location", "m", None)
    with pytest.raises(SpecError, match="not a run"):
        load_run("base", directory=tmp_path)


def test_an_edit_that_changes_nothing_is_refused():
    task = load_task("extravasation_zeroshot")
    with pytest.raises(SpecError, match="the edit changed nothing"):
        task.edited(task.template.replace("text that is not in the template", "new text"), name="lab")
    edited = task.edited(task.template + "\nOne more sentence.", name="lab")
    assert edited.name == "lab" and edited.version == task.version


def test_the_instruction_comes_before_the_impression():
    content = load_task("extravasation_zeroshot").messages("Grade III splenic laceration.")[0]["content"]
    assert content.endswith("IMPRESSION:\nGrade III splenic laceration.")


def test_a_bad_field_is_named_with_its_file(tmp_path):
    (tmp_path / "broken.yaml").write_text("name: broken\ndescription: x\ntask: t\nmodels: []\noptions: {}\n")
    with pytest.raises(SpecError, match=r"broken.yaml: field 'models': List should have at least 1 item"):
        load_run("broken", directory=tmp_path)


def test_a_missing_file_lists_the_available_ones():
    with pytest.raises(SpecError, match=r"no such file; available: embedded, llama_server, ollama_servers, paper, vllm$"):
        load_run("no-such-run")
