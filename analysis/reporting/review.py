"""The reviewer sheet: every report as a review queue, with everything needed to judge its labels and the
reviewer's decisions to save.

A reviewer should not have to re-run a model, or join four files by hand, to
see why a label is what it is. One row per report puts side by side the
ground truth, the impression that was sent (or why nothing was), and each
label set's answer, ``p_yes``, sites, status and reason, its evidence
sentences (marked in the impression, each with the models that chose it)
and the sites they name, with the raw
stage-1 response each model's label was read from: the cached response that
the label's ``response_key`` names, never another run's.

Every report is in the queue once, and says why it is flagged: where any
model, the ensemble or the rules disagrees with the ground truth (on the
answer; on the sites where the truth is Yes), or where the models (ensemble
and rules aside) disagree with one another on the answer or the sites. A
report without ground truth is flagged only for the latter. A report flagged
for nothing is still in the queue: a priority model may expect its agreed
label to be wrong.

Ordered by ``review_priority`` where the labels have it (the estimated
probability that the run's chosen label set's label is wrong), highest first,
so that a reviewer with a budget of N reports reviews the N likeliest errors;
the page marks how many errors the first 5%, 10% and 20% of the queue are
expected to hold (the sums of their probabilities: estimates, as the
probabilities are). Without priorities, closest calls first: by
``closeness``, the smallest distance of a model's ``p_yes`` from 0.5, so that
the reports a model nearly labeled the other way come first; reports without
any ``p_yes`` come last. Ties by ``report_id``.

Files ``write_reviewer_sheet`` produces in ``out_dir``, both readable by their
owner only (they hold report text):

- ``reviewer_sheet.csv``: the sheet, one row per report, in the queue's order;
- ``reviewer_sheet.html``: the same as one card per report, in the same
  order, rendered from ``templates/reviewer_sheet.html.j2``. Its header
  counts, per label set, the reports whose answer or sites disagree with the
  truth and where a model is outside the majority. Its filters show the
  reports a label set gets wrong (or, for a model, where it is outside the
  models' majority), one part of the split, one kind of hard case, or one
  reason for flagging. On each card the reviewer marks the chosen label set's
  label (every label set's, when none is chosen) right or wrong, with the
  right answer and sites, and saves the decisions as a CSV file that the
  browser downloads (``analysis.evaluation.adjudicate.DECISION_COLUMNS``;
  ``python -m analysis adjudicate`` reads it). The page is self-contained,
  and its Content-Security-Policy lets it load nothing and run only its own
  inline script (by hash): report text must not reach the network, and a
  report holding markup must not run it. The decisions stay in the page until
  saved, never in the browser's storage (docs/outputs.md says why). Without
  JavaScript every card shows, and there are no filters or decisions.
"""

import base64
import hashlib
import math
from contextlib import closing
from pathlib import Path

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from analysis.data.io import open_private, write_table
from analysis.data.split import ALL
from analysis.data.vocabulary import DEV, LABELS, LOCATIONS, POSITIVE, TEST
from analysis.evaluation.adjudicate import RIGHT, WRONG
from analysis.labeling.labels import voters
from analysis.llm.cache import ResponseCache

DISAGREES_WITH_TRUTH = "disagrees with truth"
MODELS_DISAGREE = "models disagree"
SHOWN_ALTERNATIVES = 3  # top log-probabilities per answer token: enough to see the runner-up answers
BUDGET_SHARES = (0.05, 0.10, 0.20)  # the shares of the queue a reviewer might afford, marked in the page

TEMPLATES = Environment(
    loader=PackageLoader("analysis.reporting", "templates"),
    autoescape=select_autoescape(["html.j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def column(field: str, model: str) -> str:
    """The sheet's column for one field of one label set, e.g. ``answer[qwen2.5-coder:1.5b]``."""
    return f"{field}[{model}]"


def models_of(sheet: pd.DataFrame, field: str = "answer") -> list[str]:
    """The label sets of a sheet that have ``field``, in its column order.

    Every label set has an ``answer``; only the models that were asked have a ``raw`` response.
    """
    prefix = f"{field}["
    return [name[len(prefix):-1] for name in sheet.columns if name.startswith(prefix)]


def _fields(sheet: pd.DataFrame, field: str, models: list[str]) -> pd.DataFrame:
    return sheet[[column(field, m) for m in models]].set_axis(models, axis=1)


def _site_set(sites) -> str:
    """A list of sites in one canonical spelling, so that equal sets compare equal and a reviewer reads them."""
    named = set(sites) if isinstance(sites, (list, tuple)) else set()
    return ", ".join(site for site in LOCATIONS if site in named)


def disagreement_with_truth(
    answers: pd.DataFrame, locations: pd.DataFrame, truth_extravasation: pd.Series, truth_locations: pd.Series,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Reports × label sets: where the answer differs from the truth, and where the sites do.

    Answers are compared label for label (``No`` against a true ``Undefined``
    is a disagreement, although both count as negative in Table 1A). Sites
    (each set in ``_site_set``'s spelling) are compared on the reports whose truth is ``Yes``, the reports
    Table 1B scores. A report without truth (empty cell) disagrees with nothing.
    """
    has_truth = truth_extravasation != ""
    wrong_answer = answers.ne(truth_extravasation, axis=0).where(has_truth, False, axis=0)
    wrong_sites = (locations.ne(truth_locations, axis=0)
                   .where(truth_extravasation == POSITIVE, False, axis=0))
    return wrong_answer.astype(bool), wrong_sites.astype(bool)


def outside_majority(answers: pd.DataFrame, locations: pd.DataFrame) -> pd.DataFrame:
    """Reports × models: where a model's answer, or its set of sites (in ``_site_set``'s spelling), is not that of a
    strict majority of the models.

    With no majority every model is outside it; a lone model never is. So a
    report has a model outside the majority exactly when the models disagree.
    """
    def in_minority(values: pd.DataFrame) -> pd.DataFrame:
        sharing = pd.DataFrame({m: values.eq(values[m], axis=0).sum(axis=1) for m in values.columns}, index=values.index)
        return sharing * 2 <= len(values.columns)

    return in_minority(answers) | in_minority(locations)


def _named(flags: pd.DataFrame) -> pd.Series:
    """Per report, the label sets flagged, comma-separated in column order."""
    return pd.Series([", ".join(flags.columns[row]) for row in flags.to_numpy(dtype=bool)], index=flags.index)


def _why_listed(wrong: pd.DataFrame, outvoted: pd.DataFrame) -> pd.Series:
    named = pd.DataFrame({DISAGREES_WITH_TRUTH: _named(wrong), MODELS_DISAGREE: _named(outvoted)})
    return named.apply(lambda row: "; ".join(f"{reason}: {names}" for reason, names in row.items() if names), axis=1)


def _readable_logprobs(response: dict) -> str:
    """The answer token's likeliest alternatives, e.g. ``Yes −0.05 · No −3.10 · Undefined −5.20``."""
    def readable(alternative: dict) -> str:
        token = alternative["token"].strip() or repr(alternative["token"])  # whitespace alone would print as nothing
        logprob = f"{alternative['logprob']:.2f}".replace("-", "−")  # a minus sign, not a hyphen
        return f"{token} {logprob}"

    entries = response.get("logprobs") or [{}]
    return " · ".join(readable(alternative) for alternative in entries[0].get("top_logprobs", [])[:SHOWN_ALTERNATIVES])


def cached_responses(cache_path: Path, keys: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """For a frame of response keys: the raw text (``message.content``) and the readable top log-probabilities
    of the response each key names; empty where a key is empty or not in the cache.

    The cache is opened read-only: reviewing must never change it.
    """
    with closing(ResponseCache(cache_path, read_only=True)) as cache:
        responses = cache.get_many(keys.to_numpy().ravel())
    found = keys.map(lambda key: responses.get(key, {}))
    return found.map(lambda response: response.get("message", {}).get("content", "")), found.map(_readable_logprobs)


def reviewer_sheet(
    labels: pd.DataFrame, truth: pd.DataFrame, inputs: pd.DataFrame, cache_path: Path,
    case_features: pd.DataFrame | None = None, chosen: str | None = None,
) -> pd.DataFrame:
    """One row per report, in the queue's order (see the module's docstring).

    ``labels`` is the labels table (``analysis.labeling.labels``), ``truth``
    the ground truth of every part of the split, ``inputs`` what
    ``analysis.labeling.inputs.prepare_inputs`` returns, ``cache_path`` the
    response cache the labels' ``response_key`` refer to, and
    ``case_features`` (the demo corpus's ``report_id, template, hard_cases``)
    optional. ``chosen``: the run's chosen label set, whose labels the
    reviewer decides and whose errors ``review_priority`` estimates; the sheet
    records it (``sheet.attrs["chosen"]``) for the page.

    Columns: ``report_id``; ``queue_rank`` (1 first); ``review_priority``
    (NaN where the labels have none); ``listed_because``, e.g. ``disagrees
    with truth: smollm2:135m, ensemble; models disagree: smollm2:135m`` (empty
    where nothing flags the report); ``split``;
    ``kinds`` (the hard-case categories, a list; empty without
    ``case_features``); ``closeness`` (the smallest |``p_yes`` − 0.5| over
    the models, ensemble aside; NaN if none has a ``p_yes``);
    ``truth_extravasation``, ``truth_locations`` (empty without truth);
    ``impression`` (the text sent, empty when nothing was), ``not_sent_because``,
    ``impression_method``. Then per label set, in the order of ``labels``:
    ``answer``, ``status``, ``p_yes`` (3 decimals), ``locations`` (the sites,
    comma-separated, for reading), ``evidence`` (its evidence sentences, a
    list of ``{start, end, text, p}`` in the impression), ``evidence_locations``
    (the sites they name, comma-separated), ``reason`` (the reasons, one per line),
    and for the models that were asked ``raw`` (the stage-1 response the
    label was read from) and ``logprobs`` (its answer token's likeliest
    alternatives), both empty where no response is behind the label.
    """
    labels = labels.assign(locations=labels.locations.map(_site_set), reasons=labels.reasons.map("\n".join),
                           evidence_locations=labels.evidence_locations.map(_site_set))
    truth = truth.assign(locations=truth.locations.map(_site_set))
    report_ids = list(dict.fromkeys(labels.report_id))
    label_sets = list(dict.fromkeys(labels.model))
    models = voters(labels)
    if chosen is not None and chosen not in label_sets:
        raise ValueError(f"the chosen label set {chosen!r} is not one of the labels' {label_sets}")

    def wide(field: str) -> pd.DataFrame:
        return labels.pivot(index="report_id", columns="model", values=field).reindex(index=report_ids, columns=label_sets)

    answers, statuses, locations, reasons, keys, evidence_sites = (
        wide(field).fillna("") for field in ("extravasation", "status", "locations", "reasons", "response_key",
                                             "evidence_locations"))
    evidence = wide("evidence")
    scores = wide("p_yes").round(3)
    truth = truth.set_index("report_id").reindex(report_ids).fillna("")
    sent = inputs.set_index("report_id").reindex(report_ids)
    sent = sent.assign(prompt_text=sent.prompt_text.fillna("")).fillna("")
    kinds = pd.Series([[] for _ in report_ids], index=report_ids)
    if case_features is not None:
        kinds = case_features.set_index("report_id").hard_cases.reindex(report_ids)
        kinds = kinds.map(lambda listed: listed if isinstance(listed, list) else [])
    raw, logprobs = cached_responses(cache_path, keys[models])

    wrong_answer, wrong_sites = disagreement_with_truth(answers, locations, truth.extravasation, truth.locations)
    wrong, outvoted = wrong_answer | wrong_sites, outside_majority(answers[models], locations[models])

    columns = {
        "report_id": report_ids,
        "review_priority": _review_priority(labels).reindex(report_ids),
        "listed_because": _why_listed(wrong, outvoted),
        "split": sent.split,
        "kinds": kinds,
        "closeness": (scores[models] - 0.5).abs().min(axis=1).round(3),
        "truth_extravasation": truth.extravasation,
        "truth_locations": truth.locations,
        "impression": sent.prompt_text,
        "not_sent_because": sent.reason,
        "impression_method": sent.impression_method,
    }
    for label_set in label_sets:
        columns |= {
            column("answer", label_set): answers[label_set], column("status", label_set): statuses[label_set],
            column("p_yes", label_set): scores[label_set], column("locations", label_set): locations[label_set],
            column("evidence", label_set): evidence[label_set], column("evidence_locations", label_set): evidence_sites[label_set],
            column("reason", label_set): reasons[label_set],
        }
        if label_set in models:
            columns |= {column("raw", label_set): raw[label_set], column("logprobs", label_set): logprobs[label_set]}
    sheet = _in_queue_order(pd.DataFrame(columns, index=report_ids))
    sheet.attrs["chosen"] = chosen
    return sheet


def _review_priority(labels: pd.DataFrame) -> pd.Series:
    """Per report, the labels' ``review_priority`` (the same on each of its rows, so any one of them would do);
    NaN where they have none."""
    if "review_priority" not in labels:
        return pd.Series(math.nan, index=pd.Index(labels.report_id.unique()), dtype=float)
    return pd.to_numeric(labels.review_priority, errors="coerce").groupby(labels.report_id, sort=False).max()


def _in_queue_order(sheet: pd.DataFrame) -> pd.DataFrame:
    """The sheet sorted as the queue (see the module's docstring), numbered by ``queue_rank``."""
    if sheet.review_priority.notna().any():
        by, ascending = ["review_priority", "report_id"], [False, True]
    else:
        by, ascending = ["closeness", "report_id"], [True, True]
    queue = sheet.sort_values(by, ascending=ascending, na_position="last", kind="stable").reset_index(drop=True)
    queue.insert(1, "queue_rank", range(1, len(queue) + 1))
    return queue


def budget_marks(priorities: pd.Series) -> list[dict]:
    """Where the page marks a reviewer's budget: after the first ``reports`` of the queue (``BUDGET_SHARES`` of
    it, at least one), the ``expected`` number of errors among them, of the ``total`` expected in the queue.

    ``priorities`` (in the queue's order) are probabilities of error, so their
    sums are expected counts. None without priorities; two shares that come to
    the same number of reports are marked once.
    """
    if priorities.isna().all():
        return []
    marks: dict[int, dict] = {}
    for share in BUDGET_SHARES:
        reports = max(1, math.ceil(share * len(priorities)))
        marks.setdefault(reports, {"reports": reports, "share": share, "expected": float(priorities.iloc[:reports].sum()),
                                   "total": float(priorities.sum())})
    return list(marks.values())


def _score(value: float) -> str:
    return "" if pd.isna(value) else f"{value:.3f}"


def _facts(row, kinds: list[str]) -> list[str]:
    """The short facts under a card's title: place in the queue, priority, split, kinds, closeness, how the
    impression was found."""
    priority = f"priority {_score(row.review_priority)}" if pd.notna(row.review_priority) else ""
    closeness = f"closeness {_score(row.closeness)}" if pd.notna(row.closeness) else ""
    return [fact for fact in (f"#{row.queue_rank}", priority, row.split, *kinds, closeness,
                              f"impression by {row.impression_method}") if fact]


def _judgements(sheet: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Rows × label sets: wrong answers and wrong sites (against the truth); rows × models: outside the majority."""
    label_sets, models = models_of(sheet), models_of(sheet, "raw")
    answers, locations = _fields(sheet, "answer", label_sets), _fields(sheet, "locations", label_sets)
    wrong_answer, wrong_sites = disagreement_with_truth(answers, locations, sheet.truth_extravasation, sheet.truth_locations)
    return wrong_answer, wrong_sites, outside_majority(answers[models], locations[models])


def impression_parts(text: str, evidence: dict[str, list[dict]]) -> list[dict]:
    """``text`` cut into consecutive parts, each with the models whose evidence it is (none: not evidence), so
    that the page marks each model's sentences where they stand. Spans are the impression's own sentences, so
    two models' spans are the same or apart."""
    chosen: dict[tuple[int, int], list[str]] = {}
    for model, spans in evidence.items():
        for span in spans:
            chosen.setdefault((span["start"], span["end"]), []).append(model)
    parts, at = [], 0
    for (start, end), models in sorted(chosen.items()):
        if start < at:  # overlapping another span: not one of this impression's sentences; left unmarked
            continue
        parts += [{"text": text[at:start], "models": []}, {"text": text[start:end], "models": models}]
        at = end
    return [part for part in [*parts, {"text": text[at:], "models": []}] if part["text"]]


def _cards(sheet: pd.DataFrame, wrong_answer: pd.DataFrame, wrong_sites: pd.DataFrame,
           outvoted: pd.DataFrame, decided: list[str]) -> list[dict]:
    """What each report's card shows, and the lists its filters read (``data-*`` attributes): its kinds, and the
    label sets wrong and outside the majority, by their position among the sheet's label sets; and the labels
    of the ``decided`` label sets, which the reviewer marks right or wrong."""
    wrong = wrong_answer | wrong_sites
    position = {label_set: number for number, label_set in enumerate(wrong.columns)}
    models = outvoted.columns  # the label sets that were asked, and have raw responses
    return [
        {
            "row": row,
            "facts": _facts(row, kinds),
            "impression": impression_parts(row.impression, {
                model: spans for model in models
                if isinstance(spans := row[column("evidence", model)], list) and spans}),
            "kinds": kinds,
            "wrong": [position[name] for name in wrong.columns[wrong.loc[index]]],
            "outvoted": [position[name] for name in outvoted.columns[outvoted.loc[index]]],
            "labels": [
                {"name": label_set, "answer": row[column("answer", label_set)], "status": row[column("status", label_set)],
                 "p_yes": _score(row[column("p_yes", label_set)]), "locations": row[column("locations", label_set)],
                 "evidence_locations": row[column("evidence_locations", label_set)],
                 "reason": row[column("reason", label_set)],
                 "answer_wrong": wrong_answer.at[index, label_set], "sites_wrong": wrong_sites.at[index, label_set]}
                for label_set in wrong.columns
            ],
            "decisions": [
                {"name": label_set, "answer": row[column("answer", label_set)],
                 "locations": row[column("locations", label_set)].replace(", ", ";")}
                for label_set in decided
            ],
            "responses": [
                {"name": model, "raw": row[column("raw", model)], "logprobs": row[column("logprobs", model)]}
                for model in models if row[column("raw", model)] or row[column("logprobs", model)]
            ],
        }
        for (index, row), kinds in zip(sheet.iterrows(), sheet.kinds)
    ]


def _in_order(values, first: tuple[str, ...]) -> list[str]:
    """The distinct non-empty ``values``: those of ``first`` in its order, then the others sorted."""
    present = {value for value in values if value}
    return [value for value in first if value in present] + sorted(present - set(first))


def _filter_script() -> str:
    """The page's one inline script, exactly as the page holds it (its hash is in the page's CSP)."""
    source, _, _ = TEMPLATES.loader.get_source(TEMPLATES, "reviewer_sheet.js")
    return source


def _script_hash(script: str) -> str:
    """The base64 SHA-256 of ``script``'s UTF-8 bytes: the page's CSP lets only that inline script run."""
    return base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")


def reviewer_html(sheet: pd.DataFrame, chosen: str | None = None) -> str:
    """The sheet as one self-contained HTML page: counts, filters, and one card per report in the sheet's order,
    with the budget marks between them and the controls for deciding ``chosen``'s labels (by default the label
    set the sheet records as chosen; every label set's when there is none)."""
    chosen = chosen or sheet.attrs.get("chosen")
    wrong_answer, wrong_sites, outvoted = _judgements(sheet)
    script = _filter_script()
    marks = budget_marks(sheet.review_priority)
    return TEMPLATES.get_template("reviewer_sheet.html.j2").render(
        cards=_cards(sheet, wrong_answer, wrong_sites, outvoted, [chosen] if chosen else list(wrong_answer.columns)),
        chosen=chosen,
        splits=_in_order(sheet.split, (DEV, TEST, ALL)),
        kinds=_in_order((kind for kinds in sheet.kinds for kind in kinds), ()),
        reasons={DISAGREES_WITH_TRUTH: "wrong", MODELS_DISAGREE: "outvoted"},
        errors=pd.DataFrame({"answers": wrong_answer.sum(), "sites": wrong_sites.sum(),
                             "outvoted": outvoted.sum().reindex(wrong_answer.columns).map(  # empty: does not vote
                                 lambda reports: "" if pd.isna(reports) else int(reports))}),
        marks=marks,
        marks_after={mark["reports"]: mark for mark in marks},
        verdicts=(RIGHT, WRONG),
        answers=LABELS,
        locations=LOCATIONS,
        script=Markup(script),
        script_hash=_script_hash(script),
    )


def _write_private(path: Path, text: str) -> Path:
    with open_private(path) as handle:
        handle.write(text)
    return path


def write_reviewer_sheet(sheet: pd.DataFrame, out_dir: Path, chosen: str | None = None) -> list[Path]:
    """``reviewer_sheet.csv`` and ``reviewer_sheet.html`` in ``out_dir``, readable by their owner only;
    ``chosen`` as ``reviewer_html`` takes it."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    return [
        write_table(sheet, out_dir / "reviewer_sheet.csv"),
        _write_private(out_dir / "reviewer_sheet.html", reviewer_html(sheet, chosen)),
    ]
