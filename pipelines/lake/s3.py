"""DuckDB's access to an ``s3://`` lake: httpfs with a ``credential_chain`` secret.

The secret holds no credential: DuckDB's aws extension asks the AWS SDK's default chain, the
same one boto3 uses for the sources (``pipelines/ingest/storage.py``). ``s3.profile`` selects a
profile of the shared config (``CHAIN 'config'``), ``s3.region`` the region, and
``s3.endpoint_url`` an S3-compatible store (path-style URLs, SSL from the URL's scheme).
``CREATE SECRET`` takes no prepared parameters, so each value is checked against the shape it
must have and written as a quoted literal.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import duckdb

from pipelines.config import S3Config
from pipelines.lake.paths import split_s3
from pipelines.warehouse import sql_string

SQL_DIR = Path(__file__).parent / "sql"
_REGION = re.compile(r"^[a-z]{2}(-[a-z0-9]+)+-[0-9]+$")
_PROFILE = re.compile(r"^[A-Za-z0-9_.+@-]{1,128}$")
_HOST = re.compile(r"^[A-Za-z0-9.-]+(:[0-9]{1,5})?$")


def _checked(value: str, pattern: re.Pattern, what: str) -> str:
    if not pattern.match(value):
        raise ValueError(f"s3.{what} {value!r} is not a valid {what}")
    return sql_string(value)


def secret_sql(root: str, s3: S3Config) -> str:
    """The ``CREATE SECRET`` statement for the lake at ``root``, scoped to its bucket."""
    bucket, _ = split_s3(root)
    options: list[tuple[str, str]] = []
    if s3.profile:
        options += [("chain", "'config'"), ("profile", _checked(s3.profile, _PROFILE, "profile"))]
    if s3.region:
        options.append(("region", _checked(s3.region, _REGION, "region")))
    if s3.endpoint_url:
        url = urlsplit(s3.endpoint_url)
        bad = url.scheme not in ("http", "https") or not _HOST.match(url.netloc)
        if bad or url.path.strip("/"):
            raise ValueError(f"s3.endpoint_url {s3.endpoint_url!r}: expected http(s)://host[:port]")
        options += [
            ("endpoint", sql_string(url.netloc)),
            ("url_style", "'path'"),
            ("use_ssl", "true" if url.scheme == "https" else "false"),
        ]
    options.append(("scope", sql_string(f"s3://{bucket}")))
    text = "".join(f",\n    {name} {value}" for name, value in options)
    return (SQL_DIR / "create_secret.sql").read_text().format(options=text)


def prepare_s3(con: duckdb.DuckDBPyConnection, root: str, s3: S3Config) -> None:
    """Load httpfs and aws and create the lake's secret on ``con``. Installing the two
    extensions downloads them once per machine (DuckDB's extension repository)."""
    for extension in ("httpfs", "aws"):
        con.install_extension(extension)
        con.load_extension(extension)
    con.execute(secret_sql(root, s3))
