"""AWS CUR 2.0 (Data Exports) files, Parquet or gzip CSV, as billing line items.

Billed cost is ``line_item_unblended_cost``. Effective (amortized) cost follows AWS's
amortization by line item type, so commitments are neither lost nor counted twice:

======================== ===========================================================
SavingsPlanCoveredUsage  savings_plan_savings_plan_effective_cost
SavingsPlanRecurringFee  total_commitment_to_date - used_commitment (the unused part)
SavingsPlanNegation,     0 (the negation cancels on-demand cost the plan covered; the
SavingsPlanUpfrontFee    upfront fee is amortized into the covered usage)
DiscountedUsage          reservation_effective_cost
RIFee                    unused amortized upfront fee + unused recurring fee
Fee with an RI ARN       0 (RI upfront fee, amortized into DiscountedUsage)
anything else            line_item_unblended_cost
======================== ===========================================================

Credits, refunds and negation rows keep their sign (case 7).

The commitment a line is covered by or pays for is ``commitment_discount_id`` (the Savings
Plan ARN, else the reservation ARN), ``commitment_discount_type`` ``Savings Plan`` or
``Reserved Instance`` by which of the two ARN columns is set, ``commitment_discount_category``
as FOCUS names it (``Spend``: a flexible $/hour commitment; ``Usage``: instance-bound), and
``commitment_discount_end`` from ``savings_plan_end_time`` / ``reservation_end_time`` (AWS
writes them as ISO text in UTC, e.g. ``2027-01-05T09:14:27.000Z``; NULL when the export
omits the columns, which are optional here).
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb
import pyarrow as pa

from pipelines.ingest.billing.columns import cur2_extra
from pipelines.ingest.billing.convert import FormatMapping, convert, extra_columns_json
from pipelines.ingest.errors import SourceError

TEXT = [
    "bill_payer_account_id",
    "line_item_usage_account_id",
    "line_item_currency_code",
    "line_item_line_item_type",
    "line_item_line_item_description",
    "line_item_product_code",
    "line_item_usage_type",
    "product_instance_type",
    "line_item_resource_id",
    "product_region_code",
    "savings_plan_savings_plan_a_r_n",
    "reservation_reservation_a_r_n",
    "bill_invoice_id",
    "pricing_unit",
]
MONEY_COLUMNS = [
    "line_item_unblended_cost",
    "savings_plan_savings_plan_effective_cost",
    "reservation_effective_cost",
    "savings_plan_total_commitment_to_date",
    "savings_plan_used_commitment",
    "reservation_unused_amortized_upfront_fee_for_billing_period",
    "reservation_unused_recurring_fee",
    "pricing_public_on_demand_cost",
]
INPUTS = {
    **dict.fromkeys(TEXT, "text"),
    **dict.fromkeys(MONEY_COLUMNS, "money"),
    "bill_billing_period_start_date": "time",
    "savings_plan_end_time": "time",
    "reservation_end_time": "time",
    "line_item_usage_start_date": "time",
    "line_item_usage_end_date": "time",
    "line_item_usage_amount": "quantity",
    "resource_tags": "json",
}
REQUIRED = [
    "bill_payer_account_id",
    "bill_billing_period_start_date",
    "line_item_currency_code",
    "line_item_usage_start_date",
    "line_item_usage_end_date",
    "line_item_line_item_type",
    "line_item_unblended_cost",
    "line_item_usage_type",
    "line_item_resource_id",
    *MONEY_COLUMNS[1:7],  # the amortization inputs: without them effective cost is unknown
]
NOT_NULL = {
    "bill_payer_account_id",
    "bill_billing_period_start_date",
    "line_item_currency_code",
    "line_item_usage_start_date",
    "line_item_usage_end_date",
    "line_item_line_item_type",
    "line_item_unblended_cost",
}
TYPE = "i.line_item_line_item_type"
# (input, line item type): the amortization input a row of that type cannot do without
NEEDED_BY_TYPE = (
    ("savings_plan_savings_plan_effective_cost", "SavingsPlanCoveredUsage"),
    ("reservation_effective_cost", "DiscountedUsage"),
    ("savings_plan_total_commitment_to_date", "SavingsPlanRecurringFee"),
    ("savings_plan_used_commitment", "SavingsPlanRecurringFee"),
)
REQUIRED_WHEN = [(column, f"{TYPE} = '{kind}'", f"{kind} row") for column, kind in NEEDED_BY_TYPE]

USAGE_TYPES = "('Usage', 'DiscountedUsage', 'SavingsPlanCoveredUsage', 'SavingsPlanNegation')"
CREDIT_TYPES = (
    "('Credit', 'Refund', 'Discount', 'BundledDiscount', 'EdpDiscount', 'PrivateRateDiscount')"
)
PURCHASE_TYPES = "('Fee', 'RIFee', 'SavingsPlanRecurringFee', 'SavingsPlanUpfrontFee')"
ZERO = "cast(0 as decimal(38,12))"


def outputs(c: Callable[[str], str] = lambda name: f"t.{name}") -> dict[str, str]:
    """Output column -> SQL, with ``c(cur2_name)`` the SQL of an input: legacy CUR (``cur1``)
    holds the same fields under other names and reuses these rules through ``c``."""
    kind, sp_arn, ri_arn = (
        c("line_item_line_item_type"),
        c("savings_plan_savings_plan_a_r_n"),
        c("reservation_reservation_a_r_n"),
    )
    effective = f"""case
  when {kind} = 'SavingsPlanCoveredUsage' then {c("savings_plan_savings_plan_effective_cost")}
  when {kind} = 'SavingsPlanRecurringFee'
    then {c("savings_plan_total_commitment_to_date")} - {c("savings_plan_used_commitment")}
  when {kind} in ('SavingsPlanNegation', 'SavingsPlanUpfrontFee') then {ZERO}
  when {kind} = 'DiscountedUsage' then {c("reservation_effective_cost")}
  when {kind} = 'RIFee' then
    coalesce({c("reservation_unused_amortized_upfront_fee_for_billing_period")}, {ZERO})
    + coalesce({c("reservation_unused_recurring_fee")}, {ZERO})
  when {kind} = 'Fee' and {ri_arn} is not null then {ZERO}
  else {c("line_item_unblended_cost")}
end"""
    return {
        "billing_account_id": c("bill_payer_account_id"),
        "sub_account_id": c("line_item_usage_account_id"),
        "provider_name": "'AWS'",
        "billing_period": f"cast(date_trunc('month', {c('bill_billing_period_start_date')}) "
        "as date)",
        "billing_currency": c("line_item_currency_code"),
        "charge_period_start": c("line_item_usage_start_date"),
        "charge_period_end": c("line_item_usage_end_date"),
        "charge_category": f"""case when {kind} in {USAGE_TYPES} then 'Usage'
      when {kind} = 'Tax' then 'Tax' when {kind} in {CREDIT_TYPES} then 'Credit'
      when {kind} in {PURCHASE_TYPES} then 'Purchase' else 'Adjustment' end""",
        "charge_class": f"case when {kind} = 'Refund' then 'Correction' end",
        "charge_frequency": f"""case when {kind} in {USAGE_TYPES} then 'Usage-Based'
      when {kind} in ('RIFee', 'SavingsPlanRecurringFee') then 'Recurring' else 'One-Time' end""",
        "charge_description": c("line_item_line_item_description"),
        "line_item_type": kind,
        "service_name": c("line_item_product_code"),
        "sku_or_usage_type": c("line_item_usage_type"),
        "instance_type": c("product_instance_type"),
        "resource_id": c("line_item_resource_id"),
        "region_id": c("product_region_code"),
        "commitment_discount_id": f"coalesce({sp_arn}, {ri_arn})",
        "commitment_discount_type": f"case when {sp_arn} is not null then 'Savings Plan' "
        f"when {ri_arn} is not null then 'Reserved Instance' end",
        "commitment_discount_category": f"case when {sp_arn} is not null then 'Spend' "
        f"when {ri_arn} is not null then 'Usage' end",
        "commitment_discount_end": f"case when {sp_arn} is not null "
        f"then {c('savings_plan_end_time')} "
        f"when {ri_arn} is not null then {c('reservation_end_time')} end",
        "invoice_id": c("bill_invoice_id"),
        "billed_cost": c("line_item_unblended_cost"),
        "effective_cost": effective,
        "list_cost": c("pricing_public_on_demand_cost"),
        "consumed_quantity": c("line_item_usage_amount"),
        "pricing_unit": c("pricing_unit"),
        "tags_json": c("resource_tags"),
    }


OUTPUTS = outputs()

# tz_assumed reports these only: they place the charge in hours and days (case 11).
CHARGE_PERIOD = ("line_item_usage_start_date", "line_item_usage_end_date")
MAPPING = FormatMapping(
    INPUTS, OUTPUTS, not_null=NOT_NULL, required_when=REQUIRED_WHEN, charge_period=CHARGE_PERIOD
)


def read_cur2(con: duckdb.DuckDBPyConnection, table: pa.Table, display: str) -> pa.Table:
    """Line items of one CUR 2.0 file, with ``extra_columns_json`` for unknown columns."""
    names = [n for n in table.column_names if n != "_line"]
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise SourceError(display, "CUR 2.0 required column is missing", column=missing[0])
    items = convert(con, table, MAPPING, display)
    items = items.append_column("focus_version", pa.nulls(items.num_rows, pa.string()))
    return items.append_column("extra_columns_json", extra_columns_json(table, cur2_extra(names)))
