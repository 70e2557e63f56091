"""FOCUS 1.0 to 1.4 files (CSV, gzip CSV, Parquet) as billing line items.

The version is detected from the columns present (``columns.detect_focus_version``); that
version's Mandatory columns must all be present (case 14) and its non-nullable ones filled.
``EffectiveCost`` is FOCUS's amortized cost; ``BilledCost`` is what is invoiced.

``CommitmentDiscountType`` and ``CommitmentDiscountCategory`` (``Spend`` / ``Usage``) are
kept as the provider wrote them; where a file lacks them they are derived from an AWS ARN in
``CommitmentDiscountId`` (``columns.commitment_type_sql``). FOCUS 1.0-1.2 carry no end date
for a commitment, so ``commitment_discount_end`` is NULL (1.3's contract-commitment dataset
is a separate dataset, not read; its per-row link, ``ContractApplied``, is kept as JSON).

What GPU cost needs from the newer versions (docs/billing.md):
- 1.1+: ``CapacityReservationId`` / ``CapacityReservationStatus`` (Used / Unused: an unused
  reservation is billed too), ``CommitmentDiscountStatus``, ``CommitmentDiscountQuantity`` /
  ``CommitmentDiscountUnit``, ``PricingQuantity``.
- 1.3: ``ServiceProviderName`` replaces ``ProviderName`` (``provider_name`` takes the new one,
  else the old); ``HostProviderName``; provider-calculated split cost allocation
  (``AllocatedMethodId``, ``AllocatedMethodDetails``, ``AllocatedResourceId`` / ``Name``,
  ``AllocatedTags``), kept row for row: staging marks which rows count so a split is never
  counted with its origin charge; ``ContractApplied`` (JSON).
- 1.4: ``ProviderName`` gone; ``CommitmentProgramEligibilityDetails`` (JSON: the commitment
  programmes, capacity reservations included, the usage could be covered by).
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from pipelines.ingest.billing.columns import (
    FOCUS_SUCCESSORS,
    commitment_category_sql,
    commitment_type_sql,
    detect_focus_version,
    focus_extra,
    focus_non_nullable,
    focus_renamed,
    focus_required,
)
from pipelines.ingest.billing.convert import FormatMapping, convert, extra_columns_json
from pipelines.ingest.errors import SourceError

INPUTS = {
    "BillingAccountId": "text",
    "SubAccountId": "text",
    "ProviderName": "text",
    "ServiceProviderName": "text",
    "HostProviderName": "text",
    "BillingPeriodStart": "time",
    "BillingCurrency": "text",
    "ChargePeriodStart": "time",
    "ChargePeriodEnd": "time",
    "ChargeCategory": "text",
    "ChargeClass": "text",
    "ChargeFrequency": "text",
    "ChargeDescription": "text",
    "ServiceName": "text",
    "SkuId": "text",
    "SkuPriceDetails": "json",
    "ResourceId": "text",
    "RegionId": "text",
    "CommitmentDiscountId": "text",
    "CommitmentDiscountType": "text",
    "CommitmentDiscountCategory": "text",
    "InvoiceId": "text",
    "BilledCost": "money",
    "EffectiveCost": "money",
    "ListCost": "money",
    "ConsumedQuantity": "quantity",
    "PricingQuantity": "quantity",
    "PricingUnit": "text",
    "Tags": "json",
    "CapacityReservationId": "text",
    "CapacityReservationStatus": "text",
    "CommitmentDiscountStatus": "text",
    "CommitmentDiscountQuantity": "quantity",
    "CommitmentDiscountUnit": "text",
    "AllocatedMethodId": "text",
    "AllocatedMethodDetails": "json",
    "AllocatedResourceId": "text",
    "AllocatedResourceName": "text",
    "AllocatedTags": "json",
    "ContractApplied": "json",
    "CommitmentProgramEligibilityDetails": "json",
}

# FOCUS has no instance-type column: 1.1+ may carry it in SkuPriceDetails; AWS descriptions
# read "$1.624 per On Demand Linux g5.4xlarge Instance Hour" (the real 1.0 sample).
INSTANCE_TYPE = (
    "coalesce(json_extract_string(t.SkuPriceDetails, '$.InstanceType'), "
    "nullif(regexp_extract(t.ChargeDescription, "
    r"' ([a-z][a-z0-9-]*\.[a-z0-9]+) Instance Hour', 1), ''))"
)

# tz_assumed says whether these were read without a zone (case 11): they place the charge
# in hours and days; BillingPeriodStart only names the month.
CHARGE_PERIOD = ("ChargePeriodStart", "ChargePeriodEnd")

OUTPUTS = {
    "billing_account_id": "t.BillingAccountId",
    "sub_account_id": "t.SubAccountId",
    "provider_name": "coalesce(t.ServiceProviderName, t.ProviderName)",
    "billing_period": "cast(date_trunc('month', t.BillingPeriodStart) as date)",
    "billing_currency": "t.BillingCurrency",
    "charge_period_start": "t.ChargePeriodStart",
    "charge_period_end": "t.ChargePeriodEnd",
    "charge_category": "t.ChargeCategory",
    "charge_class": "t.ChargeClass",
    "charge_frequency": "t.ChargeFrequency",
    "charge_description": "t.ChargeDescription",
    "line_item_type": "cast(NULL as varchar)",
    "service_name": "t.ServiceName",
    "sku_or_usage_type": "t.SkuId",
    "instance_type": INSTANCE_TYPE,
    "resource_id": "t.ResourceId",
    "region_id": "t.RegionId",
    "commitment_discount_id": "t.CommitmentDiscountId",
    "commitment_discount_type": "coalesce(t.CommitmentDiscountType, "
    f"{commitment_type_sql('t.CommitmentDiscountId')})",
    "commitment_discount_category": "coalesce(t.CommitmentDiscountCategory, "
    f"{commitment_category_sql('t.CommitmentDiscountId')})",
    "commitment_discount_end": "cast(NULL as timestamptz)",
    "invoice_id": "t.InvoiceId",
    "billed_cost": "t.BilledCost",
    "effective_cost": "t.EffectiveCost",
    "list_cost": "t.ListCost",
    "consumed_quantity": "t.ConsumedQuantity",
    "pricing_unit": "t.PricingUnit",
    "tags_json": "t.Tags",
    "host_provider_name": "t.HostProviderName",
    "pricing_quantity": "t.PricingQuantity",
    "capacity_reservation_id": "t.CapacityReservationId",
    "capacity_reservation_status": "t.CapacityReservationStatus",
    "commitment_discount_status": "t.CommitmentDiscountStatus",
    "commitment_discount_quantity": "t.CommitmentDiscountQuantity",
    "commitment_discount_unit": "t.CommitmentDiscountUnit",
    "allocated_method_id": "t.AllocatedMethodId",
    "allocated_method_details_json": "t.AllocatedMethodDetails",
    "allocated_resource_id": "t.AllocatedResourceId",
    "allocated_resource_name": "t.AllocatedResourceName",
    "allocated_tags_json": "t.AllocatedTags",
    "contract_applied_json": "t.ContractApplied",
    "commitment_program_eligibility_json": "t.CommitmentProgramEligibilityDetails",
}


def read_focus(con: duckdb.DuckDBPyConnection, table: pa.Table, display: str) -> pa.Table:
    """Line items of one FOCUS file, with ``focus_version`` and ``extra_columns_json``."""
    table = table.rename_columns(focus_renamed(table.column_names))
    names = [n for n in table.column_names if n != "_line"]
    version = detect_focus_version(set(names))
    missing = [c for c in focus_required(version) if c not in names]
    if missing:
        problem = f"FOCUS {version} required column is missing"
        renamed = [r.old for r in FOCUS_SUCCESSORS if r.new == missing[0] and r.old in names]
        if renamed:
            problem += f" ({renamed[0]} was replaced by {missing[0]} in FOCUS 1.3)"
        raise SourceError(display, problem, column=missing[0])
    mapping = FormatMapping(
        INPUTS,
        OUTPUTS,
        not_null=focus_non_nullable(version) & set(INPUTS),
        charge_period=CHARGE_PERIOD,
    )
    items = convert(con, table, mapping, display)
    items = items.append_column("focus_version", pa.array([version] * items.num_rows))
    # convert() returns rows in file order, so the extras line up row for row.
    return items.append_column("extra_columns_json", extra_columns_json(table, focus_extra(names)))
