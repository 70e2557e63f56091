"""Benchmarks: rows/s and peak RSS beside a raw-DuckDB baseline read of the same files."""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
from collections.abc import Callable
from pathlib import Path


def add_fleet_day_arguments(bench: argparse.ArgumentParser, day) -> None:
    """``--fleet``, ``--day`` and ``--scale``: what ``on_fleet_day`` reads."""
    bench.add_argument("--fleet", help="a simulated fleet folder (unitcost simulate's output)")
    bench.add_argument("--day", type=dt.date.fromisoformat, default=day, help="UTC day")
    bench.add_argument(
        "--scale", type=float, default=32, help="without --fleet: simulate this scale first"
    )


def on_fleet_day(args: argparse.Namespace, run_bench: Callable, report: Callable) -> int:
    """Run ``run_bench(folder, day)`` on ``--fleet``, or on one day of a fleet simulated at
    ``--scale`` into a temporary folder, and ``report`` its figures."""
    if args.fleet is not None:
        report(run_bench(Path(args.fleet), args.day))
        return 0
    from pipelines.fleet.simulate import simulate

    with tempfile.TemporaryDirectory(prefix="unitcost-bench-fleet-") as tmp:
        simulate(tmp, start=args.day, days=1, scale=args.scale)
        report(run_bench(Path(tmp), args.day))
    return 0
