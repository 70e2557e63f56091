"""An s3:// lake: where each file goes, and the DuckDB secret that reads credentials from the
AWS SDK's chain. No network: the statement's text is checked, and DuckDB parses it."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from pipelines.config import S3Config
from pipelines.lake.export import _sql
from pipelines.lake.paths import day_uri, glob_uri, spark_uri, table_uri
from pipelines.lake.s3 import secret_sql
from pipelines.lake.tables import LakeTable

DCGM = LakeTable("dcgm_samples", "ts", "timestamp")
BILLING = LakeTable("billing_line_items")


@pytest.mark.parametrize("root", ["s3://my-lake/unitcost", "s3://my-lake/unitcost/"])
def test_s3_paths_follow_the_contract(root):
    assert table_uri(root, DCGM) == "s3://my-lake/unitcost/raw/dcgm_samples"
    assert (
        day_uri(root, DCGM, dt.date(2026, 11, 2))
        == "s3://my-lake/unitcost/raw/dcgm_samples/day=2026-11-02"
    )
    assert glob_uri(root, DCGM) == "s3://my-lake/unitcost/raw/dcgm_samples/day=*/*.parquet"
    assert glob_uri(root, BILLING) == "s3://my-lake/unitcost/raw/billing_line_items/*.parquet"


def test_spark_reads_an_s3_root_through_s3a():
    assert spark_uri("s3://my-lake/unitcost/") == "s3a://my-lake/unitcost/"
    assert spark_uri("/data/lake") == "/data/lake"


def test_a_bucket_root_and_bad_names_are_handled():
    assert table_uri("s3://my-lake", BILLING) == "s3://my-lake/raw/billing_line_items"
    with pytest.raises(ValueError, match="not an S3 bucket name"):
        table_uri("s3://My_Bucket/x", BILLING)
    with pytest.raises(ValueError, match="invalid table name"):
        table_uri("s3://my-lake", LakeTable("x/../y"))
    with pytest.raises(ValueError, match="not partitioned"):
        day_uri("s3://my-lake", BILLING, dt.date(2026, 11, 2))


def test_the_copy_to_s3_quotes_identifiers_and_passes_the_day_as_parameters():
    target = day_uri("s3://my-lake/u", DCGM, dt.date(2026, 11, 2)) + "/part-0.parquet"
    sql = _sql("copy_day_timestamp.sql", DCGM, target)
    assert 'from "raw"."dcgm_samples" where "ts" >= ? and "ts" < ?' in sql
    assert "to 's3://my-lake/u/raw/dcgm_samples/day=2026-11-02/part-0.parquet'" in sql
    # a quote in a local root cannot end the literal
    assert "to '/tmp/o''brien/part-0.parquet'" in _sql(
        "copy_whole.sql", BILLING, "/tmp/o'brien/part-0.parquet"
    )


def test_the_secret_uses_the_credential_chain_and_holds_no_key():
    sql = secret_sql("s3://my-lake/unitcost", S3Config())
    assert "provider credential_chain" in sql
    assert "scope 's3://my-lake'" in sql
    for word in ("key_id", "secret '", "session_token"):
        assert word not in sql.lower()


def test_profile_region_and_endpoint_become_secret_options():
    s3 = S3Config(region="eu-west-1", profile="finops-lake", endpoint_url="http://127.0.0.1:5000")
    sql = secret_sql("s3://my-lake", s3)
    for option in (
        "chain 'config'",
        "profile 'finops-lake'",
        "region 'eu-west-1'",
        "endpoint '127.0.0.1:5000'",
        "url_style 'path'",
        "use_ssl false",
    ):
        assert option in sql
    assert "use_ssl true" in secret_sql("s3://b-1", S3Config(endpoint_url="https://minio.lan"))


@pytest.mark.parametrize(
    "s3",
    [
        S3Config(profile="x', key_id 'AKIA"),
        S3Config(region="us-east-1', endpoint 'evil"),
        S3Config(endpoint_url="ftp://host"),
        S3Config(endpoint_url="http://host/path"),
    ],
)
def test_values_that_could_change_the_statement_are_refused(s3):
    with pytest.raises(ValueError, match="s3\\."):
        secret_sql("s3://my-lake", s3)


def test_duckdb_parses_the_secret_statement():
    # Without network the aws extension cannot be installed: binding fails on it, but a
    # statement DuckDB could not parse would fail earlier, with a ParserException.
    s3 = S3Config(region="eu-west-1", profile="p", endpoint_url="http://127.0.0.1:5000")
    con = duckdb.connect(config={"autoinstall_known_extensions": False})
    try:
        con.execute(secret_sql("s3://my-lake", s3))
    except duckdb.ParserException:
        raise
    except duckdb.Error:
        pass  # extension missing, or no credentials in this environment's chain
