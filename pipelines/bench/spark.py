"""`unitcost bench-spark`: the scale test of issue 17 point 4. Simulates N days of a fleet at
scale S (cached in ``--out``), writes a config that turns the Parquet lake on and picks the
engine (``unitcost.lake.yaml`` beside the simulator's own), and times one ``unitcost run``
over the whole range with ``bench-run``'s harness: wall time per step, peak RSS of the process
tree (the run, dbt and its children, sampled from /proc), rows/s of each ingest step. With
``--engine spark`` dbt runs on the Spark target (``UNITCOST_DBT_TARGET`` names another
output of the profile); ``--engine duckdb`` runs the same steps with dbt on DuckDB, which is
how the ingest and lake-export side is checked on a machine without Spark.

The Spark cluster's own memory is not in the process tree when it runs elsewhere (Thrift
server, Databricks, EMR): the figures are then the client's, and the cluster's come from its
own UI. With a local Spark (``spark-submit --master local[2]`` started by dbt's session
method) the JVM is a child and is counted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml

from pipelines.bench.run import RunBench, format_result, run_bench

LAKE_CONFIG = "unitcost.lake.yaml"
# The local Spark session's metastore and files (profiles.yml, UNITCOST_SPARK_HOME), per fleet:
# a metastore kept from an earlier bench would turn the first build into incremental runs.
SPARK_HOME = "spark-home"
PARAMS_FILE = "bench_spark_params.json"


@dataclass(frozen=True)
class FleetParams:
    days: int
    scale: float
    start: str
    seed: int


def ensure_fleet(out: Path, params: FleetParams, *, progress: bool = False) -> Path:
    """The simulated fleet in ``out``: simulated once, reused while its parameters match
    (scale 32 takes minutes a day to simulate); a folder holding another fleet is an error."""
    from pipelines.fleet.simulate import simulate

    marker = out / PARAMS_FILE
    if marker.is_file():
        cached = FleetParams(**json.loads(marker.read_text()))
        if cached != params:
            raise SystemExit(f"{out} holds another fleet ({cached}); pass a new --out")
        return out
    if out.exists() and any(out.iterdir()):
        raise SystemExit(f"{out} is not empty and holds no {PARAMS_FILE}; pass a new --out")
    start = dt.date.fromisoformat(params.start)
    simulate(
        out, start=start, days=params.days, scale=params.scale, seed=params.seed, progress=progress
    )
    marker.write_text(json.dumps(asdict(params)))
    return out


def write_lake_config(fleet: Path, lake_root: str | None, engine: str) -> Path:
    """``unitcost.lake.yaml``: the simulator's config with ``lake`` and ``engine`` set, in the
    fleet folder (its relative paths resolve the same). The lake defaults to ``lake/`` there."""
    config = yaml.safe_load((fleet / "unitcost.yaml").read_text())
    config["lake"] = {"root": lake_root or "lake", "enabled": True}
    config["engine"] = engine
    path = fleet / LAKE_CONFIG
    path.write_text(
        "# Written by `unitcost bench-spark`; edits are overwritten.\n"
        + yaml.safe_dump(config, sort_keys=False)
    )
    return path


def fresh_start(fleet: Path, config: Path) -> None:
    """Each bench starts from an empty warehouse, an empty local lake and a new Spark
    session home (``fleet/spark-home``, unless UNITCOST_SPARK_HOME names another)."""
    from pipelines.config import load_settings
    from pipelines.warehouse import analytics_path

    settings = load_settings(config)
    for path in (settings.duckdb_path, analytics_path(settings.duckdb_path)):
        path.unlink(missing_ok=True)
    if isinstance(settings.lake_root, Path) and settings.lake_root.is_dir():
        shutil.rmtree(settings.lake_root)
    shutil.rmtree(fleet / SPARK_HOME, ignore_errors=True)


def lake_size(config: Path) -> tuple[int, int] | None:
    """(Parquet files, bytes) of a local lake; None on S3 (see the bucket's metrics)."""
    from pipelines.config import load_settings

    root = load_settings(config).lake_root
    if not isinstance(root, Path):
        return None
    files = list(root.rglob("*.parquet"))
    return len(files), sum(f.stat().st_size for f in files)


def bench_spark(
    out: Path, params: FleetParams, engine: str, lake_root: str | None, echo: bool = False
) -> tuple[RunBench, tuple[int, int] | None]:
    from pipelines.config import exported

    fleet = ensure_fleet(out, params, progress=True)
    config = write_lake_config(fleet, lake_root, engine)
    fresh_start(fleet, config)
    start = dt.date.fromisoformat(params.start)
    home = {"UNITCOST_SPARK_HOME": os.environ.get("UNITCOST_SPARK_HOME") or str(fleet / SPARK_HOME)}
    with exported(home):  # the run is a child process: it inherits the environment
        result = run_bench(config, start, start + dt.timedelta(days=params.days), echo=echo)
    return result, lake_size(config)


def _main(args: argparse.Namespace) -> int:
    params = FleetParams(args.days, args.scale, args.start.isoformat(), args.seed)
    result, size = bench_spark(Path(args.out), params, args.engine, args.lake_root, args.echo)
    label = f"{params.days} days x scale {params.scale:g} ({args.engine})"
    print(format_result(label, result))
    if size is not None:
        print(f"  lake: {size[0]} Parquet files, {size[1] / 2**30:.2f} GiB")
    return result.returncode


def add_parsers(subparsers) -> None:
    bench = subparsers.add_parser(
        "bench-spark",
        help="simulate N days x scale S, run them with the Parquet lake on and dbt on the "
        "chosen engine; wall time per step and peak RSS of the process tree",
    )
    bench.add_argument("--out", required=True, help="fleet folder (simulated once, reused)")
    bench.add_argument("--days", type=int, default=30)
    bench.add_argument("--scale", type=float, default=32, help="32 = 1,024 GPUs")
    bench.add_argument("--start", type=dt.date.fromisoformat, default=dt.date(2026, 11, 1))
    bench.add_argument("--seed", type=int, default=42)
    bench.add_argument("--engine", choices=["spark", "duckdb"], default="spark")
    bench.add_argument("--lake-root", help="local folder or s3:// prefix (default: OUT/lake)")
    bench.add_argument("--echo", action="store_true", help="also print the run's log")
    bench.set_defaults(func=_main)
