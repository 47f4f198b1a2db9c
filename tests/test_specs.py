"""Task and run files: the shipped ones load, broken ones fail naming file and field."""

import pytest

from analysis.specs import SpecError, load_run, load_task


@pytest.mark.parametrize("name", ["embedded", "paper"])
def test_shipped_runs_load_and_use_a_shipped_task(name):
    run = load_run(name)
    assert len(run.tags) == 3
    assert run.options_for(run.tags[0])["temperature"] == 0
    load_task(run.task)


def test_paper_run_uses_the_studys_models():
    assert load_run("paper").tags == ["llama3.1:70b", "qwen2.5:72b", "mistral:7b"]


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
