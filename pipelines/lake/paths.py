"""Where each table's files go under the lake root (a local folder or an ``s3://`` prefix)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from pipelines.lake.tables import LakeTable

PART_FILE = "part-0.parquet"
# Table names become path segments: only what quote_identifier accepts.
_TABLE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


def is_s3(root: str | Path) -> bool:
    return isinstance(root, str) and root.startswith("s3://")


def split_s3(root: str) -> tuple[str, str]:
    """``s3://bucket/prefix/`` -> (bucket, prefix without slashes at either end)."""
    bucket, _, prefix = root.removeprefix("s3://").partition("/")
    if not _BUCKET.match(bucket):
        raise ValueError(f"lake root {root!r}: {bucket!r} is not an S3 bucket name")
    return bucket, prefix.strip("/")


def table_uri(root: str | Path, table: LakeTable) -> str:
    """``{root}/raw/{table}``: the folder a reader globs (``day=*/*.parquet`` or ``*.parquet``)."""
    if not _TABLE.match(table.name):
        raise ValueError(f"invalid table name {table.name!r}")
    if is_s3(root):
        bucket, prefix = split_s3(str(root))
        return "/".join(p for p in (f"s3://{bucket}", prefix, "raw", table.name) if p)
    return str(Path(root) / "raw" / table.name)


def day_uri(root: str | Path, table: LakeTable, day: dt.date) -> str:
    """The hive partition folder of one UTC day: ``{root}/raw/{table}/day=YYYY-MM-DD``."""
    if not table.partitioned:
        raise ValueError(f"{table.name} is not partitioned by day")
    return f"{table_uri(root, table)}/day={day.isoformat()}"


def spark_uri(root: str | Path) -> str:
    """The root as Spark's Hadoop filesystems name it: ``s3a://`` for an ``s3://`` root (the
    open-source S3A connector; EMR's EMRFS and Databricks read ``s3a://`` too), else as is."""
    root = str(root)
    return "s3a://" + root.removeprefix("s3://") if root.startswith("s3://") else root


def glob_uri(root: str | Path, table: LakeTable) -> str:
    """What a reader passes to read_parquet: every file of the table."""
    pattern = "day=*/*.parquet" if table.partitioned else "*.parquet"
    return f"{table_uri(root, table)}/{pattern}"
