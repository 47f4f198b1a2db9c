"""The command line: `python -m analysis.corpus [--out data/demo] [--n 300] [--extension 90] [--seed 20240917]`."""

import argparse
from collections import Counter
from pathlib import Path

from analysis.config import DEMO_DIR
from analysis.corpus import DEFAULT_N_EXTENSION, DEFAULT_N_REPORTS, DEFAULT_SEED, generate, write
from analysis.data.vocabulary import LABELS


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m analysis.corpus", description="Generate the synthetic demo corpus of abdominal trauma CT reports.")
    parser.add_argument("--out", type=Path, default=DEMO_DIR, help="output directory (default: data/demo)")
    parser.add_argument("--n", type=int, default=DEFAULT_N_REPORTS, help="number of reports in the core, with the study's label mix")
    parser.add_argument("--extension", type=int, default=DEFAULT_N_EXTENSION, help="number of extension reports after the core (0: the core alone)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed")
    args = parser.parse_args(argv)
    cases = generate(args.n, args.seed, args.extension)
    write(cases, args.out)
    labels = Counter(case.extravasation for case in cases)
    print(f"Wrote {len(cases)} reports to {args.out} ({', '.join(f'{label} {labels[label]}' for label in LABELS)})")


if __name__ == "__main__":
    main()
