"""The DCGM field map (``telemetry/fields.py``) against dcgm-exporter's own catalogues
(tests/fixtures/dcgm/exporter_etc: verbatim ``etc/*.csv`` of NVIDIA/dcgm-exporter @ d5e5f510):
every field an exporter enables by default is read, or left out for a stated reason, and the
unit its help text states is the one the warehouse column is named for."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipelines.ingest.telemetry.fields import FIELD_BY_COLUMN, METRIC_COLUMNS

CATALOGUES = Path(__file__).parents[2] / "fixtures" / "dcgm" / "exporter_etc"
DEFAULT = "dcgm-exporter_default-counters.csv"
DCP = "dcgm-exporter_dcp-metrics-included.csv"
LEGACY = "dcgm-exporter_1.x-compatibility-metrics.csv"

# Enabled in the catalogues, not read, and why.
NOT_READ = {
    "DCGM_FI_DEV_VGPU_LICENSE_STATUS": "a vGPU licence state: no cost or load signal",
    "DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS": "memory health, not load",
    "DCGM_FI_DEV_CORRECTABLE_REMAPPED_ROWS": "memory health, not load",
    "DCGM_FI_DEV_ROW_REMAP_FAILURE": "memory health, not load",
    "DCGM_FI_DRIVER_VERSION": "type `label`: a label on every series, not a sample",
    # 1.x's PCIe byte *counters*: the column holds the DCP field's bytes-per-second rate
    "dcgm_fi_prof_pcie_tx_bytes": "a byte counter; the column is a rate (fields.py)",
    "dcgm_fi_prof_pcie_rx_bytes": "a byte counter; the column is a rate (fields.py)",
}
# The unit in the help text -> the suffix of the column it lands in.
UNIT_SUFFIX = {"MHz": "_mhz", "C": "_c", "W": "_w", "mJ": "_mj", "%": "_pct", "MiB": "_mib"}


def _active(name: str) -> list[tuple[str, str, str]]:
    """(field, type, help) of every enabled line: not a `#` comment, not blank; the padding
    around the commas is ragged (`DCGM_FI_DEV_DEC_UTIL ,`)."""
    rows = []
    for line in (CATALOGUES / name).read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            field, kind, help_text = (part.strip() for part in line.split(",", 2))
            rows.append((field, kind, help_text))
    return rows


def test_the_catalogues_enable_what_sources_md_counts():
    assert [len(_active(n)) for n in (DEFAULT, DCP, LEGACY)] == [26, 26, 22]
    assert {f for f, _, _ in _active(DEFAULT)} == {f for f, _, _ in _active(DCP)}


@pytest.mark.parametrize("name", [DEFAULT, DCP, LEGACY])
def test_every_enabled_field_is_read_or_left_out_for_a_reason(name):
    for field, _, _ in _active(name):
        assert (field in METRIC_COLUMNS) != (field in NOT_READ), field


@pytest.mark.parametrize("name", [DEFAULT, DCP, LEGACY])
def test_the_help_texts_unit_is_the_columns_unit(name):
    checked = 0
    for field, _, help_text in _active(name):
        column = METRIC_COLUMNS.get(field)
        unit = re.search(r"\(in ([^)]+)\)", help_text)
        if column is None or unit is None:
            continue
        if field.startswith("dcgm_fi_prof_"):
            # 1.x calls the PROF ratios "(in %)"; the column is the DCP field's 0-1 ratio,
            # so a 1.x value above 1 is quarantined, never silently rescaled
            assert FIELD_BY_COLUMN[column].high == 1.0
            continue
        assert column.endswith(UNIT_SUFFIX[unit.group(1)]), (field, column)
        checked += 1
    assert checked >= 12  # clocks, temperatures, power, energy, four utilisations, FB


def test_counters_and_mib_are_integers_like_the_exporter_writes_them():
    for field, kind, help_text in _active(DEFAULT):
        column = METRIC_COLUMNS.get(field)
        if column and (kind == "counter" or "MiB" in help_text):
            assert FIELD_BY_COLUMN[column].dtype.is_integer(), field
