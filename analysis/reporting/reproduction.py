"""Whether this run reproduced the committed demo run: the reference it is held against, and the report.

llama.cpp computes with the instruction sets it was compiled for
(``analysis.labeling.fingerprint``), so a clone on another CPU may label a few
reports differently from the committed run, and its tables may print
differently. ``write_reference`` writes the committed reference:
``data/demo/reference_labels.csv`` (report_id, model, extravasation,
``p_yes`` to 6 decimals), ``reference_evidence.csv`` (each label set's
evidence sentences: report_id, model, start, end, text) and beside them
``reference_labels.json``, the numerics of the machine that labeled it;
``read_reference`` and ``read_reference_evidence`` read them back.
``committed_table`` reads a table as the last commit holds it.
``write_reproduction`` writes ``figures/reproduction.md``
(``reproduction_markdown``): the two machines, whether identical labels are
expected, each label set beside the reference's
(``analysis.evaluation.reference``), the values of Tables 1A and 1B that
print differently from the committed ones, and ``summary``, one line for the
screen and the README, which is the report's third line.
"""

import io
import json
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from analysis.config import DEMO_DIR, FIGURES_DIR, RunFiles
from analysis.data.io import DataError
from analysis.evaluation.reference import REFERENCE_DECIMALS, compare, moved_values
from analysis.labeling.labels import read_labels
from analysis.labeling.manifest import Manifest
from analysis.labeling.fingerprint import differences, expected_identical, system_info

REFERENCE_FILE = DEMO_DIR / "reference_labels.csv"
REFERENCE_COLUMNS = ["report_id", "model", "extravasation", "p_yes"]
EVIDENCE_COLUMNS = ["report_id", "model", "start", "end", "text"]
TABLES = {"table1a": "Table 1A", "table1b": "Table 1B"}


def run_numerics(labels_path: Path) -> dict:
    """The numerics the run's manifest (beside its labels) recorded; this machine's where it recorded none."""
    manifest = RunFiles(Path(labels_path).parent).manifest
    recorded = Manifest.read(manifest).machine.get("numerics") if manifest.exists() else None
    return recorded or system_info()


def write_reference(labels: pd.DataFrame, path: Path = REFERENCE_FILE, numerics: dict | None = None) -> list[Path]:
    """The reference labels (CSV) and, beside them, the numerics of the machine that labeled them (JSON, default
    this machine's); returns both paths."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    labels[REFERENCE_COLUMNS].assign(p_yes=labels.p_yes.round(REFERENCE_DECIMALS)).to_csv(path, index=False)
    evidence_spans(labels).to_csv(evidence_path(path), index=False)
    machine = path.with_suffix(".json")
    record = {"written_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "numerics": numerics or system_info()}
    machine.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n")
    return [path, evidence_path(path), machine]


def evidence_path(reference: Path) -> Path:
    return Path(reference).with_name("reference_evidence.csv")


def evidence_spans(labels: pd.DataFrame) -> pd.DataFrame:
    """One row per evidence sentence of every label set: report_id, model, start, end, text."""
    rows = [{"report_id": report_id, "model": model, **{key: span[key] for key in ("start", "end", "text")}}
            for report_id, model, spans in zip(labels.report_id, labels.model, labels.evidence) for span in spans]
    return pd.DataFrame(rows, columns=EVIDENCE_COLUMNS)


def read_reference(path: Path = REFERENCE_FILE) -> pd.DataFrame:
    """The reference labels, with the numerics of the machine that labeled them in ``attrs["numerics"]``
    (None without the JSON file)."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"No reference labels at {path}: write them from a run's labels with "
                        "`python -m analysis reproduce --labels LABELS --reference PATH --write-reference`.")
    reference = read_labels(path)
    machine = path.with_suffix(".json")
    reference.attrs["numerics"] = json.loads(machine.read_text())["numerics"] if machine.exists() else None
    return reference


def read_reference_evidence(path: Path = REFERENCE_FILE) -> pd.DataFrame | None:
    """The reference's evidence sentences (beside its labels), or None where it has none."""
    spans = evidence_path(path)
    return pd.read_csv(spans, dtype={"report_id": str, "model": str, "text": str}) if spans.exists() else None


def committed_table(path: Path) -> pd.DataFrame | None:
    """A CSV file as the last commit holds it (``git show HEAD:path``); None outside a git checkout, or where the
    file was never committed."""
    path = Path(path).resolve()
    try:
        shown = subprocess.run(["git", "-C", str(path.parent), "show", f"HEAD:./{path.name}"],
                               capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):  # no git, not a checkout, or not in HEAD
        return None
    return pd.read_csv(io.StringIO(shown.stdout))


def table_moves(figures_dir: Path = FIGURES_DIR) -> pd.DataFrame | None:
    """The values of Tables 1A and 1B in ``figures_dir`` that print differently from the committed copies';
    None where either table has no committed or no fresh copy."""
    moves = []
    for name, title in TABLES.items():
        path = Path(figures_dir) / f"{name}.csv"
        committed = committed_table(path)
        if committed is None or not path.exists():
            return None
        moves.append(moved_values(pd.read_csv(path), committed, title))
    return pd.concat(moves, ignore_index=True)


# The report ----------------------------------------------------------------------------------------------------

def _features(numerics: dict) -> str:
    """llama.cpp's features as a line: a feature that is on by its name, any other with its value."""
    return "; ".join(f"{backend}: " + " ".join(name if value == "1" else f"{name}={value}"
                                               for name, value in sorted(features.items()))
                     for backend, features in sorted(numerics["llama_cpp"].items()))


def _machine_rows(numerics: dict | None) -> list[str]:
    if not numerics:
        return ["not recorded"] * 6
    return [numerics["cpu"], " ".join(numerics["cpu_flags"]) or "unknown",
            _features(numerics) if numerics["llama_cpp"] else f"unknown: {numerics['note']}",
            numerics["compiler"] or "unknown", numerics["llama_cpp_python"] or "not installed",
            str(numerics["threads"])]


def _machines(reference: dict | None, here: dict | None) -> str:
    shown = pd.DataFrame({
        "": ["CPU", "its instruction sets", "llama.cpp built with", "its kernels compiled by", "llama-cpp-python",
             "threads (all cores unless `serve --threads`)"],
        "reference": _machine_rows(reference), "this run": _machine_rows(here),
    })
    return shown.to_markdown(index=False, disable_numparse=True) + "\n"


def _verdict(reference: dict | None, here: dict | None) -> str:
    if expected_identical(reference, here):
        return ("The same llama.cpp build as the reference's (its features, the compiler of its kernels, "
                "llama-cpp-python): the labels should be identical, `p_yes` to 6 decimals, and so should the tables. "
                "Any difference below is a defect: please report it with this file and the run's manifest.\n")
    return ("Identical labels are not assured: " + "; ".join(differences(reference, here)) + ". "
            "llama.cpp is compiled for the CPU it is built on, and kernels for different instruction sets add the "
            "same products up in a different order: `p_yes` moves in its last digits, and a report whose `p_yes` "
            "is near the decision boundary can change its answer. Differences below are expected; what matters "
            "is their size.\n")


def _number(value, digits: int) -> str:
    return "n/a" if pd.isna(value) else f"{value:.{digits}f}"


def _labels_table(comparison: pd.DataFrame) -> str:
    shown = pd.DataFrame({
        "label set": comparison.model,
        "reports compared": comparison.n_compared.astype(str),
        "labels differ": comparison.n_labels_differ.astype(str),
        "p_yes differ": comparison.n_p_yes_differ.astype(str),
        "largest change of p_yes": comparison.max_abs_delta_p_yes.map(lambda value: _number(value, REFERENCE_DECIMALS)),
        "Cohen's κ": comparison.kappa.map(lambda value: _number(value, 3)),
        "agreement": comparison.agreement.map(lambda value: _number(value, 3)),
        "only in this run": comparison.only_this_run.astype(str),
        "only in the reference": comparison.only_reference.astype(str),
        "note": comparison.note,
    })
    return (shown.to_markdown(index=False, disable_numparse=True, colalign=["left"] + ["right"] * 8 + ["left"])
            + f"\n\nEach report's answer (Yes, No, Undefined) and `p_yes` in this run beside the reference's; `p_yes` "
              f"compared at the reference's {REFERENCE_DECIMALS} decimals. Cohen's κ: agreement of the two runs "
              "beyond chance over the three answers; agreement: the share of reports answered the same. A report "
              "one run labeled and the other did not is counted in the last columns, not compared.\n")


def _value(value) -> str:
    if isinstance(value, str):
        return value
    if pd.isna(value):
        return "n/a"
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.3f}"


def _moves_table(moved: pd.DataFrame | None) -> str:
    if moved is None:
        return ("Not compared: the committed Tables 1A and 1B cannot be read (not a git checkout, or never "
                "committed), or this run wrote none.\n")
    if moved.empty:
        return "None: every value of Tables 1A and 1B prints as in the committed copies.\n"
    shown = moved.assign(old=moved.old.map(_value), new=moved.new.map(_value))
    return (shown.to_markdown(index=False, disable_numparse=True, colalign=["left"] * 3 + ["right"] * 2)
            + "\n\nA value moved where it prints differently at the tables' 3 decimals; a change past them is not "
              "listed. `absent`: a row or column only one copy has. Old: the committed copy (`git show HEAD:`).\n")


def evidence_differences(labels: pd.DataFrame, reference: pd.DataFrame | None) -> tuple[int, int] | None:
    """How many evidence sentences of either run the other lacks, and how many the two runs share; None where the
    reference has no evidence."""
    if reference is None:
        return None
    these = set(evidence_spans(labels)[["report_id", "model", "start", "end"]].itertuples(index=False, name=None))
    theirs = set(reference[["report_id", "model", "start", "end"]].itertuples(index=False, name=None))
    return len(these ^ theirs), len(these & theirs)


def _evidence_section(spans: tuple[int, int] | None) -> str:
    if spans is None:
        return "Not compared: the reference has no evidence sentences.\n"
    differ, shared = spans
    return (f"{shared} evidence sentences (report, label set, offsets) in both runs; {differ} in only one of them.\n")


def summary(comparison: pd.DataFrame, moved: pd.DataFrame | None, reference: dict | None, here: dict | None,
            spans: tuple[int, int] | None = None) -> str:
    """One line: whether this run reproduced the reference, and if not, by how much it differs and whether it should."""
    n, differ, p_differ = (int(comparison[count].sum())
                           for count in ("n_compared", "n_labels_differ", "n_p_yes_differ"))
    one_sided = int(comparison.only_this_run.sum() + comparison.only_reference.sum())
    same_labels = differ == p_differ == one_sided == 0 and (spans is None or spans[0] == 0)
    if same_labels:
        labels = f"all {n} labels and p_yes equal the reference's" + (
            f", and all {spans[1]} evidence sentences" if spans else "")
    else:
        lowest = comparison.loc[comparison.kappa.idxmin()] if comparison.kappa.notna().any() else None
        largest = _number(comparison.max_abs_delta_p_yes.max(), REFERENCE_DECIMALS)
        labels = (f"{differ} of {n} labels differ"
                  + (f" (lowest κ {lowest.kappa:.3f}, {lowest.model})" if lowest is not None else "")
                  + f", p_yes in {p_differ} by at most {largest}"
                  + (f"; {one_sided} labels only in one of the two runs" if one_sided else "")
                  + (f"; {spans[0]} evidence sentences in only one of the two runs" if spans and spans[0] else ""))
    if moved is None:
        tables = "Tables 1A/1B not compared with the committed ones"
    elif moved.empty:
        tables = "Tables 1A/1B print as the committed ones"
    else:
        change = (pd.to_numeric(moved.new, errors="coerce") - pd.to_numeric(moved.old, errors="coerce")).abs().max()
        tables = (f"{len(moved)} printed value{'s' if len(moved) > 1 else ''} of Tables 1A/1B moved"
                  + (f" (by at most {change:.3f})" if pd.notna(change) else ""))
    reproduced = same_labels and moved is not None and moved.empty
    if expected_identical(reference, here):
        lead = ("Reproduced on the reference's llama.cpp build" if reproduced
                else "A defect: not reproduced on the reference's llama.cpp build")
    else:
        differing = differences(reference, here)
        why = differing[0] + (f", and {len(differing) - 1} more" if len(differing) > 1 else "")
        lead = (f"Reproduced, though identical labels were not assured ({why})" if reproduced else
                f"Differs from the reference, as it may where llama.cpp's build is not the reference's ({why})")
    return f"{lead}: {labels}; {tables}."


def reproduction_markdown(comparison: pd.DataFrame, moved: pd.DataFrame | None, reference: dict | None,
                          here: dict | None, spans: tuple[int, int] | None = None) -> str:
    """The report: the summary line, the two machines, the labels per label set, the evidence sentences, the
    table values that moved."""
    return "\n".join([
        "# This run against the committed reference", "",
        summary(comparison, moved, reference, here, spans), "",
        "## The two machines", "", _machines(reference, here), _verdict(reference, here),
        "## Labels, per label set", "", _labels_table(comparison),
        "## Evidence sentences", "", _evidence_section(spans),
        "## Values of Tables 1A and 1B that print differently from the committed ones", "", _moves_table(moved),
    ])


def write_reproduction(labels_path: Path, reference_path: Path = REFERENCE_FILE,
                       out: Path = FIGURES_DIR / "reproduction.md", figures_dir: Path = FIGURES_DIR) -> str:
    """``out`` for the run whose labels are at ``labels_path`` and whose tables are in ``figures_dir``; returns its
    summary line."""
    reference, labels = read_reference(reference_path), read_labels(labels_path)
    comparison = compare(labels, reference)
    spans = evidence_differences(labels, read_reference_evidence(reference_path))
    moved, numerics = table_moves(figures_dir), run_numerics(labels_path)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(reproduction_markdown(comparison, moved, reference.attrs["numerics"], numerics, spans))
    return summary(comparison, moved, reference.attrs["numerics"], numerics, spans)
