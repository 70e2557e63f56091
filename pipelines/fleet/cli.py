"""``unitcost simulate``: write a simulated fleet (registry, config, ground truth, Parquet).

``--scale S`` multiplies the fleet and its traffic: the spec's fleet is replicated
``ceil(S)`` times (at least once) and each copy serves ``S / ceil(S)`` of the spec's volume,
so the output has ``ceil(S)`` × the spec's GPUs and S × its requests. The default fleet has
32 GPUs, so ``--scale 32`` is a 1,024-GPU fleet; ``--scale 0.1`` is the default fleet with a
tenth of its traffic. See ``pipelines/fleet/plan.py``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from pipelines.fleet.formats.billing import BILLING_FORMATS, DEFAULT_BILLING_FORMAT
from pipelines.fleet.simulate import DEFAULT_START, simulate
from pipelines.fleet.spec import DEFAULT_SPEC_PATH
from pipelines.yamlconf import ConfigError


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


def _positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {value}")
    return number


def _scale(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if not (0 <= number < 1e6):
        raise argparse.ArgumentTypeError(f"must be >= 0 (and sane): {value}")
    return number


def configure(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument(
        "--spec",
        type=Path,
        default=DEFAULT_SPEC_PATH,
        help="fleet spec YAML (default: the shipped default fleet)",
    )
    parser.add_argument("--days", type=_positive_int, default=7, help="days to simulate")
    parser.add_argument(
        "--start",
        type=_date,
        default=DEFAULT_START,
        help=f"first day, YYYY-MM-DD UTC (default {DEFAULT_START})",
    )
    parser.add_argument(
        "--scale",
        type=_scale,
        default=1.0,
        help="fleet copies = ceil(S), total traffic = S x the spec's",
    )
    parser.add_argument("--seed", type=int, default=42, help="random seed")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument(
        "--billing-month",
        action="store_true",
        help="bill every day of the simulated days' months (a month-end export beside "
        "one day of telemetry and logs: make bench)",
    )
    parser.add_argument(
        "--dcgm-interval-s",
        type=_positive_int,
        default=30,
        help="DCGM sampling interval in seconds, a divisor of 3600 (default 30)",
    )
    parser.add_argument(
        "--billing-format",
        choices=list(BILLING_FORMATS),
        default=DEFAULT_BILLING_FORMAT,
        help="the billing export unitcost.yaml reads (CUR 2.0 and FOCUS 1.2 are always "
        f"written; default {DEFAULT_BILLING_FORMAT})",
    )
    parser.add_argument(
        "--duckdb",
        type=Path,
        default=None,
        help="warehouse path for unitcost.yaml (default OUT/unitcost.duckdb)",
    )
    parser.set_defaults(func=handle)
    return parser


def add_parsers(subparsers) -> None:
    """Register ``simulate`` on the ``unitcost`` command's subparsers."""
    configure(
        subparsers.add_parser(
            "simulate",
            help="write a simulated GPU fleet",
            description=__doc__,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
    )


def handle(args: argparse.Namespace) -> int:
    try:
        summary = simulate(
            args.out,
            spec_path=args.spec,
            start=args.start,
            days=args.days,
            scale=args.scale,
            seed=args.seed,
            duckdb_path=args.duckdb,
            billing_month=args.billing_month,
            dcgm_interval_s=args.dcgm_interval_s,
            progress=True,
            billing_format=args.billing_format,
        )
    except ConfigError as exc:
        print(f"unitcost simulate: invalid spec\n{exc}", file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"unitcost simulate: {exc}", file=sys.stderr)
        return 1
    print(
        f"simulated {summary.gpus:,} GPUs on {summary.instances:,} instances, "
        f"{summary.deployments:,} deployments, {args.days} day(s) from {args.start}: "
        f"{summary.requests:,} requests, {summary.tokens:,} tokens; "
        f"wrote {summary.files} files to {args.out}"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = configure(
        argparse.ArgumentParser(
            prog="unitcost simulate",
            description=__doc__,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
    )
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
