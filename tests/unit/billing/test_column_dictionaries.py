"""The billing readers' column dictionaries (``ingest/billing/data``) against the real ones
(tests/fixtures/billing, verbatim copies of shared/data): FOCUS_Spec's own column pages and
AWS's CUR 2.0 table as the Cloud Intelligence Dashboards deploy it."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from pipelines.ingest.billing.columns import (
    FOCUS_VERSIONS,
    cur2_columns,
    cur2_extra,
    detect_focus_version,
    focus_extra,
    focus_required,
    focus_spec,
)
from pipelines.ingest.billing.cur2 import INPUTS

FIXTURES = Path(__file__).parents[2] / "fixtures" / "billing"
CUR2 = "schemas/aws_cur2_columns__cid_data_exports.csv"


def _rows(name: str) -> list[dict[str, str]]:
    with (FIXTURES / name).open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_focus_dictionary_is_the_specs_columns_for_every_version_read():
    # The shared extract holds 1.0-1.2 (1.3 and 1.4 came later: tests/unit/billing/
    # test_focus_13_14.py checks those from the spec pages by hand).
    extracted = ("1.0", "1.1", "1.2")
    assert set(extracted) < set(FOCUS_VERSIONS)
    spec = [r for r in _rows("focus_spec_columns.csv") if r["focus_version"][1:] in extracted]
    # SOURCES.md: v1.0 43 columns, v1.1 50, v1.2 57
    assert [sum(r["focus_version"] == f"v{v}" for r in spec) for v in extracted] == [
        43, 50, 57,
    ]  # fmt: skip
    ours = focus_spec()
    assert {v: len(ours[v]) for v in extracted} == {"1.0": 43, "1.1": 50, "1.2": 57}
    for r in spec:
        column = ours[r["focus_version"][1:]][r["column_id"]]
        got = (column["feature_level"], column["allows_nulls"], column["data_type"])
        assert got == (r["feature_level"], r["allows_nulls"], r["data_type"]), r["column_id"]
    mandatory_10 = [c for c, m in ours["1.0"].items() if m["feature_level"] == "Mandatory"]
    assert len(mandatory_10) == 21  # SOURCES.md


def test_cur2_dictionary_is_within_aws_table_and_the_rest_is_kept_as_extra():
    aws = {r["column_name"]: r for r in _rows(CUR2)}
    assert len(aws) == 131
    ours = cur2_columns()
    assert len(ours) == 125 and ours <= set(aws)
    # AWS's table has six more: four partition keys of the CID table (SOURCES.md), `tags`
    # and line_item_iam_principal (newer; only the CID's IAM-principal queries select it).
    # A file with them keeps them in extra_columns_json, nothing is dropped.
    partitions = {"source_account_id", "report_name", "data", "billing_period"}
    assert set(aws) - ours == partitions | {"tags", "line_item_iam_principal"}
    assert cur2_extra(["line_item_unblended_cost", "line_item_iam_principal", "tags"]) == [
        "line_item_iam_principal",
        "tags",
    ]


def test_every_cur2_column_the_reader_reads_has_aws_type_for_its_kind():
    aws = {r["column_name"]: r["glue_type_in_cid_cur2_table"] for r in _rows(CUR2)}
    kinds = {"text": {"string"}, "money": {"double"}, "quantity": {"double"}}
    kinds |= {"time": {"timestamp"}, "json": {"map<string,string>"}}
    assert set(INPUTS) <= set(aws)
    # 40 of AWS's columns are selected by the CID queries but untyped in its table
    # (line_item_currency_code among them): only the typed ones can be checked
    typed = {c: k for c, k in INPUTS.items() if aws[c]}
    # AWS types the commitment term ends as ISO text, which the reader parses as a time
    # (test_readers.py::test_cur2_commitment_end_times_land_as_utc_with_their_kind)
    for column in ("savings_plan_end_time", "reservation_end_time"):
        assert aws[column] == "string"
        typed[column] = "text"
    for column, kind in typed.items():
        assert aws[column] in kinds[kind], (column, kind, aws[column])
    assert len(typed) >= len(INPUTS) - 6


SCHEMAS = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "billing_schemas"
EXPORTS = {
    # file: (its columns, read from the file)
    "aws_focus_1.2_columns__cid_data_exports.csv": lambda text: [
        r["column_name_in_export_query"]
        for r in csv.DictReader(text.splitlines())
        if r["column_name_in_export_query"]  # the CID table's partition keys have none
    ],
    **{
        f"azure_focuscost_{v}_export_schema__finops-toolkit.json": lambda text: [
            m["sink"]["name"] for m in json.loads(text)["translator"]["mappings"]
        ]
        for v in ("1.0", "1.2-preview", "1.2")
    },
}


@pytest.mark.parametrize("name", sorted(EXPORTS))
def test_real_focus_export_schemas_read_as_focus_with_providers_columns_kept_as_extra(name):
    # AWS's and Azure's FOCUS exports (schemas, no rows): the FOCUS reader finds every
    # Mandatory column of the version it detects, every other column is a FOCUS column or a
    # provider's x_ column, and only the x_ columns go to extra_columns_json.
    if not SCHEMAS.is_dir():
        pytest.skip("../shared/data is not on this machine")
    columns = EXPORTS[name]((SCHEMAS / name).read_text(encoding="utf-8"))
    version = detect_focus_version(set(columns))
    assert not [c for c in focus_required(version) if c not in columns]
    known = set().union(*focus_spec().values())
    assert not [c for c in columns if c not in known and not c.startswith("x_")]
    assert focus_extra(columns) == [c for c in columns if c.startswith("x_")]
    # Azure's "FocusCost 1.0" export already has 1.2's BillingAccountType/SubAccountType:
    # every export here reads as 1.2 (the earliest version holding all its columns)
    assert version == "1.2"
