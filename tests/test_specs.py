"""Task and run files: the shipped ones load, broken ones fail naming file and field."""

import pytest

from analysis.specs import SpecError, load_run, load_task


@pytest.mark.parametrize("name", ["embedded", "paper"])
def test_shipped_runs_load_with_their_tasks(name):
    run = load_run(name)
    for task in (run.task, run.localization.task):
        load_task(task)


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
    with pytest.raises(SpecError, match=r"no such file; available: .*embedded"):
        load_run("no-such-run")
