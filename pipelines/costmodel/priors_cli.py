"""``unitcost fit-priors``: fit the tier-0 priors and write them beside the cost model.

The written files are exactly what the repository ships (a test re-runs the fit and compares
bytes), so the priors are reproducible from the public tables in ``data/benchmarks/``.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
from pathlib import Path

from pipelines.costmodel.accuracy import split_cases
from pipelines.costmodel.benchmarks import BENCHMARK_DIR
from pipelines.costmodel.engines import EFFICIENCY_PRIORS_PATH, INTERCONNECT_PRIORS_PATH
from pipelines.costmodel.fitting import (
    PRIORS_HEADER,
    fit_priors,
    interconnect_rows,
    priors_rows,
)
from pipelines.costmodel.validation import MEASUREMENTS_PATH

INPUT_PATHS = (*sorted(BENCHMARK_DIR.glob("*.csv")), MEASUREMENTS_PATH)


def inputs_sha256() -> str:
    """First 12 hex digits of the sha256 over every input file's name and bytes."""
    digest = hashlib.sha256()
    for path in INPUT_PATHS:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def _csv_text(header: tuple[str, ...], rows: list[dict[str, object]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def fitted_files() -> dict[Path, str]:
    """The two priors files' contents as the fit produces them from the repository's data."""
    fit, _ = split_cases()
    result = fit_priors(list(fit))
    sha = inputs_sha256()
    return {
        EFFICIENCY_PRIORS_PATH: _csv_text(PRIORS_HEADER, priors_rows(result, sha)),
        INTERCONNECT_PRIORS_PATH: _csv_text(
            ("interconnect", "link_efficiency", "fit_rows", "source"),
            interconnect_rows(result, sha),
        ),
    }


def run_fit_priors(args: argparse.Namespace) -> int:
    """Handler of ``unitcost fit-priors``: write (or, with --check, compare) the priors."""
    stale = []
    for path, text in fitted_files().items():
        if args.check:
            if path.read_text() != text:
                stale.append(path.name)
        else:
            path.write_text(text)
            print(f"wrote {path}")
    if stale:
        print(f"out of date: {', '.join(stale)}; run `unitcost fit-priors`")
        return 1
    return 0


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "fit-priors", help="fit the efficiency priors to the public benchmarks' fit half"
    )
    parser.add_argument(
        "--check", action="store_true", help="compare with the shipped files, write nothing"
    )
    parser.set_defaults(func=run_fit_priors)
