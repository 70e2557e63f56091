"""Source file ids: deterministic, recorded once, a collision refused."""

from __future__ import annotations

import hashlib

import duckdb
import pytest

from pipelines.ingest import file_ids
from pipelines.ingest.file_ids import file_id, register_files


def test_the_id_is_the_first_8_bytes_of_the_paths_sha256_signed():
    # by hand: sha256("s3://b/k") starts with these 8 bytes
    head = hashlib.sha256(b"s3://b/k").hexdigest()[:16]
    expected = int(head, 16) - (1 << 64 if int(head, 16) >= 1 << 63 else 0)
    assert file_id("s3://b/k") == expected
    assert file_id("s3://b/k") != file_id("s3://b/k2")


def test_registering_twice_records_each_file_once():
    con = duckdb.connect()
    register_files(con, "telemetry", ["/a.parquet", "/b.parquet"])
    register_files(con, "telemetry", ["/b.parquet", "/c.parquet"])
    rows = con.execute("select uri from raw.source_files order by uri").fetchall()
    assert rows == [("/a.parquet",), ("/b.parquet",), ("/c.parquet",)]


def test_a_collision_is_refused_naming_both_files(monkeypatch):
    con = duckdb.connect()
    register_files(con, "requests", ["/a.jsonl"])
    monkeypatch.setattr(file_ids, "file_id", lambda uri: file_id("/a.jsonl"))
    with pytest.raises(ValueError, match="/b.jsonl and /a.jsonl"):
        register_files(con, "requests", ["/b.jsonl"])
