"""The billing source on S3 (moto server): paginated listing past 1,000 keys, manifest-chosen
files, ETag-pinned reads, the same totals as from a local folder."""

from __future__ import annotations

import datetime as dt
import socket
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest

from pipelines.config import S3Config
from pipelines.ingest.billing.load import BillingSource, ingest_billing
from pipelines.warehouse import connect


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def s3(fake_aws_env):
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    yield S3Config(region="us-east-1", endpoint_url=f"http://127.0.0.1:{port}")
    server.stop()


def test_s3_source_paginates_past_1000_keys_and_loads_the_manifest_files(s3, tmp_path):
    from pipelines.fleet.formats.billing import write_exports
    from pipelines.fleet.plan import build_plan
    from pipelines.fleet.spec import DEFAULT_SPEC_PATH, load_spec
    from pipelines.ingest.storage import s3_client

    plan = build_plan(load_spec(DEFAULT_SPEC_PATH), dt.date(2026, 11, 1), 1, 0.05, 42)
    truth = write_exports(plan, tmp_path / "billing", formats=("cur2",))
    client = s3_client(s3)
    client.create_bucket(Bucket="bills")
    root = tmp_path / "billing" / "cur2"
    for path in root.rglob("*"):
        if path.is_file():
            key = "exports/" + path.relative_to(root).as_posix()
            client.put_object(Bucket="bills", Key=key, Body=path.read_bytes())
    # 1,100 unlisted files sort before metadata/: the manifest is only on the second page.
    junk = "exports/unitcost-cur2/data/BILLING_PERIOD=2026-11/old-{:05d}.csv.gz"
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: client.put_object(Bucket="bills", Key=junk.format(i), Body=b"x"),
                      range(1100)))  # fmt: skip
    with connect(tmp_path / "w.duckdb") as con:
        source = BillingSource("billing", "s3://bills/exports", "cur2", s3)
        result = ingest_billing(con, source)
        assert [(d.status, d.row_count) for d in result.deliveries] == [
            ("loaded", truth["rows"]["cur2"]["2026-11"])
        ]
        assert len(result.ignored_files) == 1100
        totals = con.execute(
            "select sum(billed_cost), sum(effective_cost), min(source_file) "
            "from raw.billing_line_items"
        ).fetchall()[0]
        want = truth["periods"]["2026-11"]["USD"]
        assert totals == (
            Decimal(want["billed_usd"]),
            Decimal(want["effective_usd"]),
            "s3://bills/exports/unitcost-cur2/data/BILLING_PERIOD=2026-11/"
            "unitcost-cur2-00001.snappy.parquet",
        )
        assert [d.status for d in ingest_billing(con, source).deliveries] == ["unchanged"]
