"""The reviewer sheet: every report the models get wrong or disagree on, with everything needed to judge why.

A reviewer should not have to re-run a model, or join four files by hand, to
see why a label is what it is. One row per report puts side by side the
ground truth, the impression that was sent (or why nothing was), and each
model's answer, ``p_yes``, locations, reason and raw stage-1 response as the
response cache holds it.

Files ``write_reviewer_sheet`` produces in ``out_dir``, both readable by their
owner only (they hold report text):

- ``reviewer_sheet.csv``: the sheet, one row per listed report;
- ``reviewer_sheet.html``: the same, one card per report, for reading in a
  browser. Self-contained (inline CSS, no script) and forbidden by its own
  Content-Security-Policy to load anything: report text must not reach the
  network.
"""

import html
import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pandas as pd

from analysis.config import RESPONSE_CACHE_FILE
from analysis.data import open_private, split_locations, write_table
from analysis.ensemble import ENSEMBLE

STAGE1_TASK = "extravasation_zeroshot"
DISAGREES_WITH_TRUTH = "disagrees with truth"
MODELS_DISAGREE = "models disagree"


def column(field: str, model: str) -> str:
    """The sheet's column for one field of one model, e.g. ``answer[qwen2.5-coder:1.5b]``."""
    return f"{field}[{model}]"


def models_of(sheet: pd.DataFrame) -> list[str]:
    """The models of a sheet, in its column order."""
    prefix = "answer["
    return [name[len(prefix):-1] for name in sheet.columns if name.startswith(prefix)]


def latest_responses(cache_path: Path, task: str) -> pd.DataFrame:
    """``report_id, model, raw``: the ``message.content`` of the most recent cached response per report and model.

    A changed prompt is a new cache key, so one report and model may have
    several responses for a task; the most recent ``created_at`` wins. The
    cache file is opened read-only: reviewing must never change it.
    """
    cache_path = Path(cache_path)
    if not cache_path.is_file():
        raise FileNotFoundError(f"{cache_path}: no response cache there")
    uri = f"{cache_path.resolve().as_uri()}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True)) as connection:
        rows = pd.read_sql_query(
            "SELECT report_id, model, response, created_at FROM responses WHERE task = ?", connection, params=(task,)
        )
    rows["created_at"] = pd.to_datetime(rows.created_at, utc=True, format="ISO8601")
    latest = rows.sort_values("created_at").drop_duplicates(["report_id", "model"], keep="last")
    raw = [json.loads(response).get("message", {}).get("content", "") for response in latest.response]
    return pd.DataFrame({"report_id": latest.report_id.tolist(), "model": latest.model.tolist(), "raw": raw})


def _as_text(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    # Labels and truth may come back from CSV, where an empty cell reads as
    # NaN and an id as a number; the cache stores ids as text.
    return frame.assign(**{name: frame[name].fillna("").astype(str) for name in columns})


def _site_sets(locations: pd.DataFrame) -> pd.DataFrame:
    return locations.map(lambda cell: frozenset(split_locations(cell)))


def disagreement_with_truth(
    answers: pd.DataFrame, locations: pd.DataFrame, truth_extravasation: pd.Series, truth_locations: pd.Series,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Reports × models: where the answer differs from the truth, and where the sites do.

    Answers are compared label for label (``No`` against a true ``Undefined``
    is a disagreement, although both count as negative in Table 1A). Sites
    are compared as sets on the reports whose truth is ``Yes``, the reports
    Table 1B scores. A report without truth (empty cell) disagrees with nothing.
    """
    has_truth = truth_extravasation != ""
    wrong_answer = answers.ne(truth_extravasation, axis=0).where(has_truth, False, axis=0)
    truth_sites = truth_locations.map(lambda cell: frozenset(split_locations(cell)))
    wrong_sites = _site_sets(locations).ne(truth_sites, axis=0).where(truth_extravasation == "Yes", False, axis=0)
    return wrong_answer.astype(bool), wrong_sites.astype(bool)


def _why_listed(wrong: pd.DataFrame, models_split: pd.Series) -> list[str]:
    reasons = []
    for report_id, split in models_split.items():
        wrong_models = wrong.columns[wrong.loc[report_id]].tolist()
        parts = [f"{DISAGREES_WITH_TRUTH}: {', '.join(wrong_models)}"] if wrong_models else []
        reasons.append("; ".join(parts + ([MODELS_DISAGREE] if split else [])))
    return reasons


def reviewer_sheet(
    labels: pd.DataFrame, truth: pd.DataFrame, inputs: pd.DataFrame,
    cache_path: Path = RESPONSE_CACHE_FILE, stage1_task: str = STAGE1_TASK,
) -> pd.DataFrame:
    """One row per report that a reviewer should look at, in the order of ``labels``.

    Listed: every report with ground truth where any model or the ensemble
    disagrees with it (see ``disagreement_with_truth``), and every report
    where the models (the ensemble aside) disagree with one another on the
    stage-1 answer or on the stage-2 sites; a report without ground truth is
    listed only for the latter. ``listed_because`` says which, e.g.
    ``disagrees with truth: smollm2:135m, ensemble; models disagree``.

    ``inputs`` is what ``labeling.prompt_inputs`` returns; ``impression`` is
    the text sent to the models, empty when nothing was sent, and then
    ``not_sent_because`` says why. Per model, in the order of ``labels``:
    ``answer``, ``p_yes`` (3 decimals), ``locations``, ``reason`` and, except
    for the ensemble, ``raw``: the ``message.content`` of the response to
    ``stage1_task`` found in the cache at ``cache_path`` for that report and
    model tag. Where a changed prompt left several responses, ``raw`` is the
    most recent by ``created_at``, which is not necessarily the one behind
    ``labels`` if an older run produced them. ``raw`` is empty where the cache
    holds no response (the report was not sent).
    """
    labels = _as_text(labels, ["report_id", "model", "extravasation", "locations", "reason"])
    truth = _as_text(truth, ["report_id", "extravasation", "locations"])
    inputs = _as_text(inputs, ["report_id", "prompt_text", "reason", "impression_method"])
    report_ids = list(dict.fromkeys(labels.report_id))
    models = list(dict.fromkeys(labels.model))
    members = [model for model in models if model != ENSEMBLE]

    def wide(field: str) -> pd.DataFrame:
        return labels.pivot(index="report_id", columns="model", values=field).reindex(index=report_ids, columns=models)

    answers, locations, reasons = (wide(field).fillna("") for field in ("extravasation", "locations", "reason"))
    scores = wide("p_yes").apply(pd.to_numeric, errors="coerce").round(3)
    truth = truth.set_index("report_id").reindex(report_ids).fillna("")
    sent = inputs.set_index("report_id").reindex(report_ids).fillna("")
    # fill_value: a cache without any response to the task pivots to float columns, which take no text.
    raw = (latest_responses(cache_path, stage1_task).pivot(index="report_id", columns="model", values="raw")
           .reindex(index=report_ids, columns=members, fill_value="").fillna(""))

    wrong_answer, wrong_sites = disagreement_with_truth(answers, locations, truth.extravasation, truth.locations)
    wrong = wrong_answer | wrong_sites
    models_split = (answers[members].nunique(axis=1) > 1) | (_site_sets(locations[members]).nunique(axis=1) > 1)
    listed = wrong.any(axis=1) | models_split

    columns = {
        "report_id": report_ids,
        "listed_because": _why_listed(wrong, models_split),
        "truth_extravasation": truth.extravasation,
        "truth_locations": truth.locations,
        "impression": sent.prompt_text,
        "not_sent_because": sent.reason,
        "impression_method": sent.impression_method,
    }
    for model in models:
        columns |= {
            column("answer", model): answers[model], column("p_yes", model): scores[model],
            column("locations", model): locations[model], column("reason", model): reasons[model],
        }
        if model != ENSEMBLE:
            columns[column("raw", model)] = raw[model]
    sheet = pd.DataFrame(columns, index=report_ids)
    return sheet[listed].reset_index(drop=True)


STYLE = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d1d1f; margin: 0 auto;
       max-width: 1200px; padding: 1.5rem; background: #f6f6f4; }
h1 { margin: 0 0 .3rem; font-size: 1.6rem; }
h2 { margin: 0; font-size: 1.15rem; }
.private { color: #8a1c1c; font-weight: 600; }
.counts { display: flex; flex-wrap: wrap; gap: .6rem; padding: 0; list-style: none; }
.counts li { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: .35rem .7rem; }
table { border-collapse: collapse; width: 100%; background: #fff; }
table.per-model { width: auto; }
table.overview td:first-child { white-space: nowrap; }
th, td { border: 1px solid #d8d8d8; padding: .3rem .45rem; text-align: left; vertical-align: top; }
th { background: #ecebe7; font-weight: 600; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
.wrong { background: #fde0dc; color: #7a1010; }
.flag { font-size: .78em; font-weight: 600; white-space: nowrap; }
.report { background: #fff; border: 1px solid #d0d0cc; border-radius: 8px; padding: 1rem 1.2rem; margin: 1.2rem 0; }
.why { color: #555; margin: .2rem 0 .6rem; }
.truth { margin: .4rem 0; }
.muted { color: #777; font-size: .9em; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; margin: 0; font: 13px/1.4 ui-monospace, Menlo, Consolas, monospace; }
pre.impression { background: #fafaf7; border-left: 4px solid #9aa5b1; padding: .6rem .8rem; margin: .3rem 0 .8rem; }
.not-sent { background: #fff6d6; border-left: 4px solid #d9a400; padding: .5rem .8rem; }
a { color: #1a4d8f; }
"""


def _text(value) -> str:
    return "" if pd.isna(value) else html.escape(str(value))


def _score(value) -> str:
    return "—" if pd.isna(value) else f"{value:.3f}"


def _cell(content: str, wrong: bool, css: str = "") -> str:
    classes = " ".join(filter(None, [css, "wrong" if wrong else ""]))
    flag = ' <span class="flag">≠ truth</span>' if wrong else ""
    return f'<td class="{classes}">{content}{flag}</td>' if classes else f"<td>{content}</td>"


def _label(answer: str, sites: str) -> str:
    if not answer:
        return '<span class="muted">none</span>'
    return f'{_text(answer)} <span class="muted">({_text(sites)})</span>' if sites else _text(answer)


def _truth_line(row) -> str:
    if not row.truth_extravasation:
        return '<p class="truth">Ground truth: <em>none for this report</em></p>'
    sites = _text(row.truth_locations) or '<span class="muted">none</span>'
    return f'<p class="truth">Ground truth: <strong>{_text(row.truth_extravasation)}</strong> · locations: {sites}</p>'


def _impression_block(row) -> str:
    method = f'<p class="muted">Impression found by: {_text(row.impression_method)}</p>'
    if row.impression:
        return f'{method}<pre class="impression">{_text(row.impression)}</pre>'
    return f'{method}<p class="not-sent">Nothing sent to the models: {_text(row.not_sent_because)}</p>'


def _answers_table(row, models: list[str], wrong_answer: pd.Series, wrong_sites: pd.Series) -> str:
    lines = []
    for model in models:
        raw = (f"<pre>{_text(row[column('raw', model)])}</pre>" if model != ENSEMBLE
               else '<span class="muted">majority vote, no model call</span>')
        lines.append(
            f"<tr><th>{_text(model)}</th>"
            + _cell(_text(row[column("answer", model)]), wrong_answer[model])
            + _cell(_score(row[column("p_yes", model)]), False, "number")
            + _cell(_text(row[column("locations", model)]), wrong_sites[model])
            + f"<td>{_text(row[column('reason', model)])}</td><td>{raw}</td></tr>"
        )
    head = "<tr><th>model</th><th>answer</th><th>p_yes</th><th>locations</th><th>reason</th><th>raw stage-1 response</th></tr>"
    return f'<table class="answers"><thead>{head}</thead><tbody>{"".join(lines)}</tbody></table>'


def reviewer_html(sheet: pd.DataFrame) -> str:
    """The sheet as one self-contained HTML page: counts, an overview table, one card per report."""
    models = models_of(sheet)
    answers = sheet[[column("answer", m) for m in models]].set_axis(models, axis=1)
    locations = sheet[[column("locations", m) for m in models]].set_axis(models, axis=1)
    wrong_answer, wrong_sites = disagreement_with_truth(answers, locations, sheet.truth_extravasation, sheet.truth_locations)

    counts = [
        f"<li><strong>{len(sheet)}</strong> reports listed</li>",
        *(f"<li>{reason}: <strong>{sheet.listed_because.str.contains(reason, regex=False).sum()}</strong></li>"
          for reason in (DISAGREES_WITH_TRUTH, MODELS_DISAGREE)),
    ]
    per_model = "".join(
        f'<tr><th>{_text(m)}</th><td class="number">{wrong_answer[m].sum()}</td>'
        f'<td class="number">{wrong_sites[m].sum()}</td></tr>'
        for m in models
    )
    overview_rows = "".join(
        f'<tr><td><a href="#report-{i}">{_text(row.report_id)}</a></td>'
        f"<td>{_label(row.truth_extravasation, row.truth_locations)}</td>"
        + "".join(
            _cell(_label(row[column("answer", m)], row[column("locations", m)]), wrong_answer.at[i, m] or wrong_sites.at[i, m])
            for m in models
        )
        + f"<td>{_text(row.listed_because)}</td></tr>"
        for i, row in sheet.iterrows()
    )
    overview_head = "".join(f"<th>{_text(m)}</th>" for m in models)
    cards = "".join(
        f'<article class="report" id="report-{i}"><h2>{_text(row.report_id)}</h2>'
        f'<p class="why">Listed because: {_text(row.listed_because)}</p>'
        + _truth_line(row) + _impression_block(row) + _answers_table(row, models, wrong_answer.loc[i], wrong_sites.loc[i])
        + "</article>"
        for i, row in sheet.iterrows()
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Reviewer sheet</title>
<style>{STYLE}</style>
</head>
<body>
<header>
<h1>Reviewer sheet</h1>
<p class="private">Contains report text, which may hold protected health information. Keep this file private.</p>
<ul class="counts">{"".join(counts)}</ul>
<table class="per-model"><thead><tr><th>model</th><th>answers that disagree with truth</th>
<th>locations that disagree with truth</th></tr></thead><tbody>{per_model}</tbody></table>
<p class="muted">Highlighted cells disagree with the ground truth. Locations are compared on reports whose truth is Yes.
Raw responses are the most recent the response cache holds for each report and model.</p>
</header>
<h2>Overview</h2>
<table class="overview"><thead><tr><th>report</th><th>truth</th>{overview_head}<th>listed because</th></tr></thead>
<tbody>{overview_rows}</tbody></table>
<main>{cards}</main>
</body>
</html>
"""


def _write_private(path: Path, text: str) -> Path:
    with open_private(path) as handle:
        handle.write(text)
    return path


def write_reviewer_sheet(sheet: pd.DataFrame, out_dir: Path) -> list[Path]:
    """``reviewer_sheet.csv`` and ``reviewer_sheet.html`` in ``out_dir``, readable by their owner only."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    return [
        write_table(sheet, out_dir / "reviewer_sheet.csv"),
        _write_private(out_dir / "reviewer_sheet.html", reviewer_html(sheet)),
    ]
