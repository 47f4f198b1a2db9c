"""``python -m analysis adjudicate``: a reviewer's decisions (saved by the reviewer sheet's page) applied to a
run's labels, written as ``labels_reviewed.csv``, and the decided label sets scored before and after review.

The scores stand in ``<out>_scores.md`` beside the reviewed labels, on the test
part of the split when one is given, as Table 1A scores them.
"""

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis.data.io import open_private, read_split, read_truth
from analysis.data.split import truth_parts
from analysis.evaluation.adjudicate import adjudicate, read_decisions, review_scores
from analysis.labeling.labels import read_labels, write_labels


@dataclass
class Adjudicated:
    reviewed: pd.DataFrame  # the labels, each decision applied
    decisions: pd.DataFrame
    scores: pd.DataFrame | None  # before and after review; None without ground truth
    written: list[Path]


def scores_markdown(scores: pd.DataFrame, scored_on: str) -> str:
    shown = scores.assign(**{name: scores[name].map("{:.3f}".format) for name in ("precision", "recall", "f1", "accuracy")})
    return (f"# Scores before and after review\n\nScored as Table 1A scores: the reports of {scored_on} whose ground "
            f"truth is Yes or No (`n`), a Yes answer against No and Undefined ones. `reviewed`: the scored reports "
            f"whose label the reviewer decided.\n\n"
            + shown.to_markdown(index=False, disable_numparse=True) + "\n")


def adjudicate_step(decisions_path: Path, labels_path: Path, out: Path | None = None, truth_path: Path | None = None,
                    split_path: Path | None = None) -> Adjudicated:
    """The labels of ``labels_path`` with the decisions of ``decisions_path`` applied, written to ``out``
    (default: ``labels_reviewed.csv`` beside the labels); with ``truth_path``, their scores before and after
    review (on the test part of ``split_path``'s split, if given) written beside it."""
    labels, decisions = read_labels(labels_path), read_decisions(decisions_path)
    reviewed = adjudicate(labels, decisions)
    out = Path(out) if out else Path(labels_path).with_name("labels_reviewed.csv")
    written = [write_labels(reviewed, out)]
    scores = None
    if truth_path:
        truth, _ = truth_parts(read_truth(truth_path), read_split(split_path) if split_path else None)
        scored_on = f"the test part of {split_path}" if split_path else "the truth"
        scores = review_scores(labels, reviewed, truth, decisions)
        written.append(out.with_name(f"{out.stem}_scores.md"))
        with open_private(written[-1]) as handle:  # report ids stay out of it, but it sits beside them
            handle.write(scores_markdown(scores, scored_on))
    return Adjudicated(reviewed, decisions, scores, written)
