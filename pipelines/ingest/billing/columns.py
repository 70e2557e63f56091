"""What billing columns mean: the FOCUS spec per version, the CUR 2.0 dictionary, our output.

Data files (``data/``): ``focus_columns.csv`` is derived from the FOCUS spec pages (version,
column, feature level, nullability); ``cur2_columns.txt`` lists CUR 2.0's standard columns.
A column in neither (and every FOCUS ``x_`` column) is kept in ``extra_columns_json``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA_DIR = Path(__file__).parent / "data"
FOCUS_VERSIONS = ("1.0", "1.1", "1.2", "1.3", "1.4")
MONEY = "DECIMAL(38,12)"
# ConsumedQuantity carries 15 decimals in real FOCUS data; quantities are not money.
QUANTITY = "DECIMAL(38,15)"

# raw.billing_line_items, in order (the contract allocation builds on).
LINE_ITEM_COLUMNS: dict[str, str] = {
    "billing_source": "VARCHAR",
    "source_format": "VARCHAR",
    "focus_version": "VARCHAR",
    "billing_account_id": "VARCHAR",
    "sub_account_id": "VARCHAR",
    "provider_name": "VARCHAR",
    "billing_period": "DATE",
    "billing_currency": "VARCHAR",
    "charge_period_start": "TIMESTAMPTZ",
    "charge_period_end": "TIMESTAMPTZ",
    "charge_category": "VARCHAR",
    "charge_class": "VARCHAR",
    "charge_frequency": "VARCHAR",
    "charge_description": "VARCHAR",
    "line_item_type": "VARCHAR",
    "service_name": "VARCHAR",
    "sku_or_usage_type": "VARCHAR",
    "instance_type": "VARCHAR",
    "resource_id": "VARCHAR",
    "region_id": "VARCHAR",
    "commitment_discount_id": "VARCHAR",
    "commitment_discount_type": "VARCHAR",
    "commitment_discount_category": "VARCHAR",
    "commitment_discount_end": "TIMESTAMPTZ",
    "invoice_id": "VARCHAR",
    "billed_cost": MONEY,
    "effective_cost": MONEY,
    "list_cost": MONEY,
    "consumed_quantity": QUANTITY,
    "pricing_unit": "VARCHAR",
    "tags_json": "JSON",
    "extra_columns_json": "JSON",
    "tz_assumed": "BOOLEAN",
    "source_file": "VARCHAR",
    "source_line": "BIGINT",
    "delivery_id": "VARCHAR",
    # FOCUS 1.1+ (capacity reservations, commitment status and quantity), 1.3 (host provider,
    # provider-calculated split cost allocation, contract commitments), 1.4 (commitment
    # programme eligibility). Appended, so older warehouses gain them (add_missing_columns);
    # NULL for CUR and for FOCUS files without them.
    "host_provider_name": "VARCHAR",
    "pricing_quantity": QUANTITY,
    "capacity_reservation_id": "VARCHAR",
    "capacity_reservation_status": "VARCHAR",
    "commitment_discount_status": "VARCHAR",
    "commitment_discount_quantity": QUANTITY,
    "commitment_discount_unit": "VARCHAR",
    "allocated_method_id": "VARCHAR",
    "allocated_method_details_json": "JSON",
    "allocated_resource_id": "VARCHAR",
    "allocated_resource_name": "VARCHAR",
    "allocated_tags_json": "JSON",
    "contract_applied_json": "JSON",
    "commitment_program_eligibility_json": "JSON",
}


@dataclass(frozen=True)
class Rename:
    old: str
    new: str
    since: str  # the FOCUS version whose spec renamed it


# Case 14: the only way an old column name is read as a FOCUS column. Source: FOCUS_Spec
# CHANGELOG.md, "Columns History" (v1.0-preview and v1.0); 1.0 -> 1.1 -> 1.2 renamed nothing
# (focus_columns.csv: each version only adds columns). ``Region`` became ``RegionId`` (1.0
# added ``RegionName`` beside it).
FOCUS_RENAMES: tuple[Rename, ...] = (
    Rename("AmortizedCost", "EffectiveCost", "1.0-preview"),
    Rename("ChargeType", "ChargeCategory", "1.0-preview"),
    Rename("UsageQuantity", "ConsumedQuantity", "1.0"),
    Rename("UsageUnit", "ConsumedUnit", "1.0"),
    Rename("Region", "RegionId", "1.0"),
)


def focus_renamed(columns: list[str]) -> list[str]:
    """The column names with pre-1.0 names mapped by ``FOCUS_RENAMES``. Where a file has
    both names the current one is read and the old one stays an extra column (recorded,
    never silently merged)."""
    present = set(columns)
    renames = {r.old: r.new for r in FOCUS_RENAMES if r.new not in present}
    return [renames.get(c, c) for c in columns]


@cache
def focus_spec() -> dict[str, dict[str, dict[str, str]]]:
    """``{version: {column_id: {feature_level, allows_nulls, data_type}}}``."""
    spec: dict[str, dict[str, dict[str, str]]] = {v: {} for v in FOCUS_VERSIONS}
    with open(DATA_DIR / "focus_columns.csv", newline="", encoding="utf-8") as handle:
        lines = (line for line in handle if not line.startswith("#"))
        for row in csv.DictReader(lines):
            spec[row.pop("focus_version")][row.pop("column_id")] = row
    return spec


@cache
def cur2_columns() -> frozenset[str]:
    text = (DATA_DIR / "cur2_columns.txt").read_text(encoding="utf-8")
    return frozenset(line for line in text.splitlines() if line and not line.startswith("#"))


def _introduced() -> dict[str, str]:
    """Each spec column's first version."""
    first: dict[str, str] = {}
    for version in FOCUS_VERSIONS:
        for column in focus_spec()[version]:
            first.setdefault(column, version)
    return first


def detect_focus_version(columns: set[str]) -> str:
    """The FOCUS version a file's columns prove.

    FOCUS files do not state their version. A version is possible when no present column was
    introduced after it (``ServiceSubcategory`` proves 1.1+, ``BillingAccountType`` 1.2+,
    ``ServiceProviderName`` or ``AllocatedMethodId`` 1.3+, ``CommitmentProgramEligibilityDetails``
    1.4); the earliest possible version whose Mandatory columns are all present wins. A 1.4
    file differs from a 1.3 one mostly by what it lacks: 1.4 removed ``ProviderName``
    (Mandatory in 1.0-1.3), so a file with ``ServiceProviderName`` and without ``ProviderName``
    is 1.4. When no possible version has all its Mandatory columns, the one missing fewest
    (the earliest on a tie) is returned and the reader names what is missing.
    """
    first = _introduced()
    order = {v: i for i, v in enumerate(FOCUS_VERSIONS)}
    newest = max((order[first[c]] for c in columns if c in first), default=0)
    possible = FOCUS_VERSIONS[newest:]
    missing = {v: len(set(focus_required(v)) - columns) for v in possible}
    return min(possible, key=lambda v: (missing[v], order[v]))


def focus_required(version: str) -> list[str]:
    return sorted(c for c, m in focus_spec()[version].items() if m["feature_level"] == "Mandatory")


def focus_non_nullable(version: str) -> set[str]:
    spec = focus_spec()[version]
    return {c for c, m in spec.items() if m["feature_level"] == "Mandatory"} & {
        c for c, m in spec.items() if m["allows_nulls"] == "False"
    }


# Columns FOCUS replaced by a new one: the reader takes the new one, else the old (a 1.3 file
# carries both; a 1.4 file only the new). Source: the 1.3 ProviderName page, "Deprecated
# (version) 1.3 Replaced by ServiceProviderName".
FOCUS_SUCCESSORS: tuple[Rename, ...] = (Rename("ProviderName", "ServiceProviderName", "1.3"),)


def focus_extra(columns: list[str]) -> list[str]:
    """Columns outside every FOCUS version's spec: ``x_`` and unknown ones."""
    known = set().union(*(focus_spec()[v] for v in FOCUS_VERSIONS))
    return [c for c in columns if c not in known]


def cur2_extra(columns: list[str]) -> list[str]:
    return [c for c in columns if c not in cur2_columns()]


def commitment_type_sql(commitment_id: str) -> str:
    """SQL naming the commitment kind from its id, for exports without a type column.

    AWS ids are ARNs: ``arn:aws:savingsplans::<account>:savingsplan/<id>`` or
    ``arn:aws:ec2:<region>:<account>:reserved-instances/<id>``; other ids stay NULL.
    """
    return (
        f"case when {commitment_id} like '%:savingsplan/%' then 'Savings Plan' "
        f"when {commitment_id} like '%:reserved-instances/%' then 'Reserved Instance' end"
    )


def commitment_category_sql(commitment_id: str) -> str:
    """FOCUS CommitmentDiscountCategory from the id: a Savings Plan commits to spend per hour
    (``Spend``, flexible across instances); a Reserved Instance to an instance (``Usage``)."""
    return (
        f"case when {commitment_id} like '%:savingsplan/%' then 'Spend' "
        f"when {commitment_id} like '%:reserved-instances/%' then 'Usage' end"
    )


def line_items_ddl(table: str) -> str:
    cols = ",\n  ".join(f"{name} {kind}" for name, kind in LINE_ITEM_COLUMNS.items())
    return f"create table if not exists {table} (\n  {cols}\n)"
