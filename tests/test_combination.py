"""The ensemble with ConText's veto (run file ``combination: context_veto``). No model: the ensemble's rows are built
by hand, since what is tested is how the rules' ConText reading overrides them; the rules themselves run for real."""

import math

import pandas as pd
import pytest

from analysis.data.vocabulary import COMBINATION, ENSEMBLE, Role, Status
from analysis.labeling.combination import add_combination
from analysis.labeling.labels import COLUMNS
from analysis.specs import SpecError, load_run
from tests.frames import labels_frame

IMPRESSIONS = {
    "asserted": "Grade IV splenic laceration with active contrast extravasation.",
    "hedged": "Splenic laceration. A focus of hyperdensity is suspicious for, but not diagnostic of, active extravasation.",
    "not blood": "CT cystogram demonstrates extraperitoneal bladder rupture with extravasation of instilled contrast "
                 "into the perivesical space. No active bleeding.",
    "negated": "Grade II liver laceration without active extravasation.",
    "not mentioned": "Large perisplenic hematoma with a contrast blush that enlarges on delayed images.",
    "no impression": None,
}


def ensemble_saying_yes() -> tuple[pd.DataFrame, pd.DataFrame]:
    inputs = pd.DataFrame({"report_id": list(IMPRESSIONS), "prompt_text": list(IMPRESSIONS.values())})
    rows = [(report_id, ENSEMBLE, "Yes", 0.8, "", Status.VOTED) for report_id in IMPRESSIONS if report_id != "no impression"]
    rows.append(("no impression", ENSEMBLE, "Undefined", None, "no impression section", Status.NOT_SENT))
    return labels_frame(rows, ["report_id", "model", "extravasation", "p_yes", "reason"]), inputs


def test_context_vetoes_the_ensemble_only_where_no_mention_is_asserted():
    labels, inputs = ensemble_saying_yes()
    combined = add_combination(labels, inputs, load_run("embedded"))
    assert list(combined.columns) == COLUMNS
    rows = combined[combined.model == COMBINATION].set_index("report_id")
    assert sorted(rows.index) == sorted(IMPRESSIONS)  # every report once
    assert rows.extravasation.to_dict() == {
        "asserted": "Yes", "hedged": "Undefined", "not blood": "No", "negated": "No",
        "not mentioned": "Yes",  # no mention the rules know: the ensemble decides
        "no impression": "Undefined"}
    assert set(rows.index[rows.status == Status.VETOED]) == {"hedged", "not blood", "negated"}
    assert rows.loc["no impression", "status"] == Status.NOT_SENT
    assert any("not blood" in reason for reason in rows.loc["not blood", "reasons"])
    assert any("hedged" in reason for reason in rows.loc["hedged", "reasons"])
    assert all(math.isnan(p) for p in rows.p_yes)  # a veto is not a probability
    pd.testing.assert_frame_equal(combined[combined.model == ENSEMBLE], labels)


def test_without_the_option_or_an_ensemble_nothing_is_added():
    labels, inputs = ensemble_saying_yes()
    run = load_run("embedded")
    assert add_combination(labels, inputs, run.model_copy(update={"combination": None})) is labels
    models_only = labels.assign(model="qwen2.5-coder:1.5b", role=Role.MODEL)
    assert add_combination(models_only, inputs, run) is models_only


def test_a_combination_needs_the_rules():
    spec = load_run("embedded").model_dump(by_alias=True) | {"baseline": None}
    with pytest.raises((SpecError, ValueError), match="needs a baseline"):
        type(load_run("embedded")).model_validate(spec)
