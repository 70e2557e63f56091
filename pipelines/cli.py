"""The `unitcost` command line: simulate, run, predict, validate, summary."""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from pipelines.yamlconf import ConfigError


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


def _run(args: argparse.Namespace) -> int:
    from pipelines.runner import run

    log_level = {0: "WARNING", 1: "INFO"}.get(args.verbose, "DEBUG")
    return _ran(
        "run",
        args,
        lambda: run(
            args.config, args.start, args.end, log_level=log_level, disk_check=args.disk_check
        ),
    )


def _backfill(args: argparse.Namespace) -> int:
    from pipelines.backfill import backfill

    return _ran(
        "backfill",
        args,
        lambda: backfill(
            args.config, args.start, args.end, args.chunk_days, disk_check=args.disk_check
        )[-1],
    )


def _ran(command: str, args: argparse.Namespace, execute) -> int:
    """Run ``execute`` (its last RunResult); print the warehouse summary, or the error."""
    from pipelines.runner import RunError
    from pipelines.summary import print_summary

    try:
        result = execute()
    except ConfigError as exc:
        # Already `file:line: key.path: message`, one line per problem: nothing to add.
        print(exc, file=sys.stderr)
        return 1
    except RunError as exc:
        print(f"unitcost {command}: {exc}", file=sys.stderr)
        return 1
    print_summary(result.duckdb_path, args.start, args.end)
    if result.analytics_path is not None:
        print(f"Analysts' read-only copy (query this one): {result.analytics_path}")
    return 0


def _summary(args: argparse.Namespace) -> int:
    from pipelines.summary import print_summary, table_hashes

    if args.hashes is not None:
        schemas = tuple(args.hashes) or ("marts",)
        for schema, table, rows, digest in table_hashes(args.duckdb, schemas):
            print(f"{schema}.{table}\t{rows}\t{digest}")
        return 0
    print_summary(args.duckdb)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="unitcost", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="materialize every asset for the days in [start, end)")
    run.add_argument("--config", required=True, help="unitcost.yaml")
    run.add_argument("--start", required=True, type=_date, help="first day, YYYY-MM-DD (UTC)")
    run.add_argument("--end", required=True, type=_date, help="day after the last, YYYY-MM-DD")
    run.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="stream Dagster and dbt logs; twice (-vv) also every step as it starts and ends",
    )
    run.add_argument(
        "--no-disk-check",
        dest="disk_check",
        action="store_false",
        help="skip the pre-flight check that the warehouse's disk has room for the run",
    )
    run.set_defaults(func=_run)

    backfill = sub.add_parser(
        "backfill", help="run the days in [start, end) in chunks, behind a progress bar"
    )
    backfill.add_argument("--config", required=True, help="unitcost.yaml")
    backfill.add_argument("--start", required=True, type=_date, help="first day (UTC)")
    backfill.add_argument("--end", required=True, type=_date, help="day after the last")
    backfill.add_argument(
        "--chunk-days",
        type=int,
        default=7,
        help="days per run (default 7): a failure keeps every earlier chunk",
    )
    backfill.add_argument(
        "--no-disk-check",
        dest="disk_check",
        action="store_false",
        help="skip each run's pre-flight check that the disk has room",
    )
    backfill.set_defaults(func=_backfill)

    summary = sub.add_parser("summary", help="print what a warehouse holds")
    summary.add_argument("--duckdb", default="var/unitcost.duckdb", help="DuckDB file")
    summary.add_argument(
        "--hashes",
        nargs="*",
        metavar="SCHEMA",
        help="print each table's rows and an order-independent content hash instead "
        "(schemas: marts if none given); diff two warehouses' outputs to compare them",
    )
    summary.set_defaults(func=_summary)

    from pipelines.bench.billing import add_parsers as add_bench_billing_parsers
    from pipelines.bench.quality import add_parsers as add_bench_quality_parsers
    from pipelines.bench.requests import add_parsers as add_bench_requests_parsers
    from pipelines.bench.run import add_parsers as add_bench_run_parsers
    from pipelines.bench.spark import add_parsers as add_bench_spark_parsers
    from pipelines.bench.telemetry import add_parsers as add_bench_telemetry_parsers
    from pipelines.costmodel.cli import add_parsers as add_costmodel_parsers
    from pipelines.fleet.cli import add_parsers as add_fleet_parsers

    add_fleet_parsers(sub)
    add_bench_billing_parsers(sub)
    add_bench_quality_parsers(sub)
    add_bench_requests_parsers(sub)
    add_bench_run_parsers(sub)
    add_bench_spark_parsers(sub)
    add_bench_telemetry_parsers(sub)
    add_costmodel_parsers(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
