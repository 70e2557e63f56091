"""S3 listing (moto, in-process): a location is a folder, never a character prefix."""

from __future__ import annotations

import pytest

from pipelines.config import S3Config
from pipelines.ingest.storage import list_files, s3_client


@pytest.fixture
def bucket(fake_aws_env):
    moto = pytest.importorskip("moto")
    with moto.mock_aws():
        s3 = S3Config(region="us-east-1")
        client = s3_client(s3)
        client.create_bucket(Bucket="bills")
        for key in (
            "exports/cur2/data/BILLING_PERIOD=2026-10/a.csv",
            "exports/cur2-initial/data/BILLING_PERIOD=2026-10/a.csv",
            "exports/cur2.bak",
        ):
            client.put_object(Bucket="bills", Key=key, Body=b"x")
        yield s3


@pytest.mark.parametrize("location", ["s3://bills/exports/cur2", "s3://bills/exports/cur2/"])
def test_s3_location_without_trailing_slash_lists_only_its_own_folder(bucket, location):
    files = list_files(location, bucket)
    assert [f.relative_path for f in files] == ["data/BILLING_PERIOD=2026-10/a.csv"]
    assert files[0].uri == "s3://bills/exports/cur2/data/BILLING_PERIOD=2026-10/a.csv"
    assert files[0].modified is not None  # LastModified: which delivery is newer


def test_s3_bucket_root_lists_everything(bucket):
    assert len(list_files("s3://bills", bucket)) == 3
