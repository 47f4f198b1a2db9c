"""Tables written to files (CSV for machines, Markdown for people) that nobody retypes."""

from pathlib import Path

import pandas as pd

METRIC_COLUMNS = ["precision", "recall", "f1", "accuracy"]


def write_table1a(table: pd.DataFrame, out_dir: Path) -> list[Path]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path, md_path = out_dir / "table1a.csv", out_dir / "table1a.md"
    table.to_csv(csv_path, index=False, float_format="%.6f")
    shown = table.copy()
    shown[METRIC_COLUMNS] = shown[METRIC_COLUMNS].map(lambda v: f"{v:.3f}")
    alignment = ["left"] + ["right"] * (len(shown.columns) - 1)
    md_path.write_text(shown.to_markdown(index=False, disable_numparse=True, colalign=alignment) + "\n")
    return [csv_path, md_path]
