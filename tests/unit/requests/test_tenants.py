"""Who asked: the configured tenant field of each format lands in ``raw.inference_requests``
(``tenant``), mapped by ``names``, a user only as its hash; a warehouse without the column
gets it. Expected values are written out from the log lines each test writes."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import pytest
from requestlogs import FIXTURES, record, write_lines

from pipelines.config import SourceConfig
from pipelines.ingest.requests.day import ingest_day
from pipelines.ingest.requests.privacy import user_hash
from pipelines.ingest.requests.schema import RAW_REQUESTS_SQL

DAY = dt.date(2026, 11, 1)
SALT = "s" * 16


def _real_litellm() -> dict:
    """LiteLLM's own SpendLogs payload (tests/fixtures/requests/README.md): ``team_id``
    top-level and empty, ``metadata`` a JSON *string* holding user_api_key_*."""
    return json.loads((FIXTURES / "litellm_spend_logs_payload__litellm-tests.json").read_text())


def _litellm_lines(tmp_path: Path) -> None:
    """Four rows of the real payload's shape: the team in top-level team_id, the team only in
    the metadata string (as LiteLLM's StandardLoggingPayload has it), a key alias only, and
    the payload as LiteLLM's test wrote it (every team field empty)."""
    real = _real_litellm()
    rows = []
    for i, (team_id, meta_team, alias) in enumerate(
        [("team-a1", None, None), ("", "team-b2", None), ("", None, "ci-key"), ("", None, None)]
    ):
        row = dict(real, request_id=f"r{i}", team_id=team_id)
        meta = json.loads(real["metadata"])
        meta["user_api_key_team_id"], meta["user_api_key_alias"] = meta_team, alias
        row["metadata"] = json.dumps(meta)
        rows.append(row)
    write_lines(tmp_path / "logs" / "spend.jsonl", rows)


@pytest.mark.parametrize(
    ("tenant", "expected"),
    [
        # team_id: top-level first, then metadata.user_api_key_team_id
        ({"field": "team_id"}, ["team-a1", "team-b2", None, None]),
        # names map a logged value; one not listed is kept as logged
        ({"field": "team_id", "names": {"team-a1": "search"}}, ["search", "team-b2", None, None]),
        ({"field": "key_alias", "names": {"ci-key": "ci"}}, [None, None, "ci", None]),
    ],
)
def test_litellm_team_from_the_real_spend_log_shape(tmp_path, make_loader, tenant, expected):
    _litellm_lines(tmp_path)
    loader = make_loader("litellm", tenant=tenant)
    day = loader.load_day(dt.date(2025, 1, 24), loader.files())
    assert day.quarantine.height == 0  # the metadata string is read, not a malformed line
    frame = day.requests.sort("request_id")
    assert frame["tenant"].to_list() == expected
    # the payload's own numbers, read through the metadata string as before
    assert frame.row(0, named=True)["input_tokens"] == 10
    assert frame.row(0, named=True)["output_tokens"] == 20


def test_gateway_header_map_names_the_tenant(tmp_path, make_loader):
    write_lines(
        tmp_path / "logs" / "gw.jsonl",
        [
            record(0, headers={"x-tenant-id": "search", "authorization": "Bearer sk-secret"}),
            record(1, headers={"x-tenant-id": " support "}),
            record(2, headers={"x-tenant-id": ""}),
            record(3),  # no headers at all
            record(4, headers={"x-other": "x"}),
        ],
    )
    loader = make_loader(tenant={"field": "header", "key": "x-tenant-id"})
    frame = loader.load_day(DAY, loader.files()).requests.sort("request_id")
    assert frame["tenant"].to_list() == ["search", "support", None, None, None]
    assert "sk-secret" not in str(frame.rows())


def test_user_as_tenant_is_kept_only_as_its_hash(tmp_path, make_loader):
    write_lines(
        tmp_path / "logs" / "gw.jsonl",
        [record(0, user="alice@example.com"), record(1, user="bob"), record(2, user=None)],
    )
    tenant = {"field": "user", "names": {"bob": "billing-team"}}
    loader = make_loader(salt=SALT, tenant=tenant)
    frame = loader.load_day(DAY, loader.files()).requests.sort("request_id")
    alice = user_hash("alice@example.com", SALT)
    assert frame["tenant"].to_list() == [alice, "billing-team", None]
    assert frame["user_hash"].to_list()[0] == alice
    assert "alice" not in str(frame.rows())
    # without a salt nothing personal is stored: only the named team survives
    unsalted = make_loader(tenant=tenant)
    frame = unsalted.load_day(DAY, unsalted.files()).requests.sort("request_id")
    assert frame["tenant"].to_list() == [None, "billing-team", None]


def test_no_tenant_config_leaves_the_column_null(tmp_path, make_loader):
    write_lines(tmp_path / "logs" / "gw.jsonl", [record(0, headers={"x-tenant-id": "search"})])
    loader = make_loader()
    assert loader.load_day(DAY, loader.files()).requests["tenant"].to_list() == [None]


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ({"format": "litellm", "tenant": {"field": "header", "key": "x"}}, "not a litellm"),
        ({"tenant": {"field": "header"}}, "needs a key"),
        ({"tenant": {"field": "header", "key": "x.y"}}, "needs a key"),
        ({"tenant": {"field": "user", "key": "x"}}, "takes no key"),
        ({"format": "mooncake", "tenant": {"field": "user"}}, "logs no tenant"),
        ({"tenant": {"field": "user", "names": {"a": "\nbad"}}}, "tenant name"),
    ],
)
def test_tenant_config_errors(source, message):
    with pytest.raises(ValueError, match=message):
        SourceConfig(location="logs/", **source)


def test_a_warehouse_without_the_tenant_column_gets_it(tmp_path, make_loader):
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    old = {c: kind for c, kind in RAW_REQUESTS_SQL.items() if c != "tenant"}
    con.execute("create schema raw")
    con.execute(
        "create table raw.inference_requests ("
        + ", ".join(f'"{c}" {kind}' for c, kind in old.items())
        + ")"
    )
    con.execute(
        "insert into raw.inference_requests (request_source, request_id, arrival_ts) "
        "values ('requests', 'old-1', timestamptz '2026-10-30 10:00:00+00')"
    )
    write_lines(tmp_path / "logs" / "gw.jsonl", [record(0, headers={"x-tenant-id": "search"})])
    loader = make_loader(tenant={"field": "header", "key": "x-tenant-id"})
    ingest_day(con, loader, DAY, loader.files(), [DAY])
    rows = con.execute(
        "select request_id, tenant from raw.inference_requests order by request_id"
    ).fetchall()
    assert rows == [("old-1", None), ("req-0", "search")]
