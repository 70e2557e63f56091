"""Reading billing files: physical lines, NULL tokens, and exact errors for bad files."""

from __future__ import annotations

import gzip

import pytest

from pipelines.ingest.billing.files import read_billing_file
from pipelines.ingest.errors import SourceError


def _error(path) -> str:
    with pytest.raises(SourceError) as info:
        read_billing_file(path, "f.csv")
    return str(info.value)


def test_lines_count_physical_lines_across_quoted_newlines_and_nulls(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text('a,b\n1,"x\ny"\n\n2,NULL\n')
    table = read_billing_file(path, "f.csv")
    assert table.column("_line").to_pylist() == [2, 5]
    assert table.column("b").to_pylist() == ["x\ny", None]


def test_short_row_fails_with_its_line(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text("a,b,c\n1,2,3\n1,2\n")
    assert _error(path) == "f.csv:3: row has 2 fields, the header has 3"


def test_long_row_fails_with_its_line(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text("a,b\n1,2\n3,4\n1,2,3\n")
    assert _error(path) == "f.csv:4: row has 3 fields, the header has 2"


def test_wrong_delimiter_fails_naming_it(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text("a;b\n1;2\n")
    assert _error(path) == "f.csv: one column in the header; the delimiter looks like ';', not ','"


def test_empty_file_fails(tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes(b"")
    assert _error(path) == "f.csv: file is empty (0 bytes)"


def test_truncated_gzip_fails_naming_the_file(tmp_path):
    path = tmp_path / "f.csv.gz"
    path.write_bytes(gzip.compress(b"a,b\n" + b"1,2\n" * 1000)[:-20])
    with pytest.raises(SourceError) as info:
        read_billing_file(path, "f.csv.gz")
    assert str(info.value) == (
        "f.csv.gz: truncated or corrupt gzip: "
        "Compressed file ended before the end-of-stream marker was reached"
    )


def test_truncated_parquet_fails_naming_the_file(tmp_path, sim_bill):
    source = next(sim_bill[0].glob("cur2/*/data/*/*.parquet"))
    path = tmp_path / "f.parquet"
    path.write_bytes(source.read_bytes()[:-100])
    with pytest.raises(SourceError) as info:
        read_billing_file(path, "f.parquet")
    assert str(info.value).startswith("f.parquet: unreadable Parquet: ")


def test_non_utf8_fails_with_a_line(tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes(b"a,b\n1,2\n3,\xff\n")
    assert _error(path) == "f.csv:3: not UTF-8: invalid start byte"
