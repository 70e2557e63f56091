"""`unitcost bench-billing`: ingest a simulated 1,000-GPU month of CUR 2.0, rows/s and peak RSS.

The baseline is DuckDB's own ``read_parquet`` of the same files with money cast to
DECIMAL(38,12) (what any loader must at least do), timed in the same process before the
ingest, so both figures come from one machine state. Peak RSS is the process's high-water mark
(``VmHWM``), reset between phases where the kernel allows it.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import resource
import tempfile
import time
from pathlib import Path

# 31 copies of the default spec's 32 GPUs = 992 GPUs (the spec's instance mix, 248 instances).
DEFAULT_SCALE = 31
PLAIN_READ = "select count(*), sum(line_item_unblended_cost) from read_parquet(?)"
MONEY_SUM = (
    "select count(*), sum(cast(cast(line_item_unblended_cost as varchar) as decimal(38,12))) "
    "from read_parquet(?)"
)


def _peak_rss_mib() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _reset_peak() -> None:
    with contextlib.suppress(OSError):  # Linux: writing 5 resets VmHWM to the current RSS
        Path("/proc/self/clear_refs").write_text("5")


def _simulate(folder: Path, scale: float, days: int) -> tuple[Path, int]:
    from pipelines.fleet.formats.billing import write_exports
    from pipelines.fleet.plan import build_plan
    from pipelines.fleet.spec import DEFAULT_SPEC_PATH, load_spec

    plan = build_plan(load_spec(DEFAULT_SPEC_PATH), dt.date(2026, 11, 1), days, scale, 42)
    write_exports(plan, folder, formats=("cur2",))
    return folder / "cur2", plan.gpu_count


def run_bench(scale: float = DEFAULT_SCALE, days: int = 30, keep: Path | None = None) -> dict:
    import duckdb

    from pipelines.ingest.billing.load import BillingSource, ingest_billing
    from pipelines.warehouse import connect

    with tempfile.TemporaryDirectory(prefix="unitcost-bench-") as tmp:
        root = keep or Path(tmp)
        t0 = time.perf_counter()
        source, gpus = _simulate(root / "billing", scale, days)
        simulate_s = time.perf_counter() - t0
        files = sorted(str(p) for p in source.glob("*/data/*/*.parquet"))
        _reset_peak()
        t0 = time.perf_counter()
        with duckdb.connect() as con:
            con.execute(PLAIN_READ, [files]).fetchall()
        plain_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        with duckdb.connect() as con:
            rows, total = con.execute(MONEY_SUM, [files]).fetchall()[0]
        baseline_s, baseline_rss = time.perf_counter() - t0, _peak_rss_mib()
        _reset_peak()
        t0 = time.perf_counter()
        with connect(root / "bench.duckdb") as con:
            result = ingest_billing(con, BillingSource("billing", source, "cur2"))
            loaded = con.execute(
                "select count(*), sum(billed_cost) from raw.billing_line_items"
            ).fetchall()[0]
        ingest_s, ingest_rss = time.perf_counter() - t0, _peak_rss_mib()
    assert loaded == (rows, total), f"ingest {loaded} != baseline {(rows, total)}"
    return {
        "gpus": gpus, "days": days, "files": len(files), "rows": rows, "billed_usd": total,
        "simulate_s": simulate_s, "plain_s": plain_s, "baseline_s": baseline_s,
        "baseline_rss_mib": baseline_rss,
        "ingest_s": ingest_s, "ingest_rss_mib": ingest_rss,
        "deliveries": [d.status for d in result.deliveries],
    }  # fmt: skip


def _main(args: argparse.Namespace) -> int:
    r = run_bench(args.scale, args.days, Path(args.keep) if args.keep else None)
    print(
        f"CUR 2.0, {r['gpus']} GPUs x {r['days']} days: {r['rows']:,} rows in {r['files']} "
        f"Parquet file(s), billed {r['billed_usd']} USD (simulated in {r['simulate_s']:.1f} s)"
    )
    print(f"  duckdb read_parquet, double sum   : {r['plain_s']:7.2f} s "
          f"{r['rows'] / r['plain_s']:>12,.0f} rows/s")  # fmt: skip
    print(
        f"  duckdb read_parquet + DECIMAL sum : {r['baseline_s']:7.2f} s "
        f"{r['rows'] / r['baseline_s']:>12,.0f} rows/s  peak RSS {r['baseline_rss_mib']:,.0f} MiB"
    )
    print(
        f"  unitcost ingest (validate+ledger) : {r['ingest_s']:7.2f} s "
        f"{r['rows'] / r['ingest_s']:>12,.0f} rows/s  peak RSS {r['ingest_rss_mib']:,.0f} MiB"
    )
    return 0  # fmt: skip


def add_parsers(subparsers) -> None:
    bench = subparsers.add_parser(
        "bench-billing", help="rows/s and peak RSS ingesting a simulated month of CUR 2.0"
    )
    bench.add_argument(
        "--scale", type=float, default=DEFAULT_SCALE, help="fleet copies (31: 992 GPUs)"
    )
    bench.add_argument("--days", type=int, default=30, help="days of the month to bill")
    bench.add_argument("--keep", help="write the export here instead of a temp folder")
    bench.set_defaults(func=_main)
