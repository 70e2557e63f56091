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
REQUIRED_WHEN = [
    (column, f"{TYPE} = '{kind}'", f"{kind} row")
    for column, kind in (
        ("savings_plan_savings_plan_effective_cost", "SavingsPlanCoveredUsage"),
        ("reservation_effective_cost", "DiscountedUsage"),
        ("savings_plan_total_commitment_to_date", "SavingsPlanRecurringFee"),
        ("savings_plan_used_commitment", "SavingsPlanRecurringFee"),
    )
]

USAGE_TYPES = "('Usage', 'DiscountedUsage', 'SavingsPlanCoveredUsage', 'SavingsPlanNegation')"
CREDIT_TYPES = (
    "('Credit', 'Refund', 'Discount', 'BundledDiscount', 'EdpDiscount', 'PrivateRateDiscount')"
)
PURCHASE_TYPES = "('Fee', 'RIFee', 'SavingsPlanRecurringFee', 'SavingsPlanUpfrontFee')"
T = "t.line_item_line_item_type"
SP_ARN = "t.savings_plan_savings_plan_a_r_n"
RI_ARN = "t.reservation_reservation_a_r_n"
ZERO = "cast(0 as decimal(38,12))"

EFFECTIVE = f"""case
  when {T} = 'SavingsPlanCoveredUsage' then t.savings_plan_savings_plan_effective_cost
  when {T} = 'SavingsPlanRecurringFee'
    then t.savings_plan_total_commitment_to_date - t.savings_plan_used_commitment
  when {T} in ('SavingsPlanNegation', 'SavingsPlanUpfrontFee') then {ZERO}
  when {T} = 'DiscountedUsage' then t.reservation_effective_cost
  when {T} = 'RIFee' then
    coalesce(t.reservation_unused_amortized_upfront_fee_for_billing_period, {ZERO})
    + coalesce(t.reservation_unused_recurring_fee, {ZERO})
  when {T} = 'Fee' and t.reservation_reservation_a_r_n is not null then {ZERO}
  else t.line_item_unblended_cost
end"""

OUTPUTS = {
    "billing_account_id": "t.bill_payer_account_id",
    "sub_account_id": "t.line_item_usage_account_id",
    "provider_name": "'AWS'",
    "billing_period": "cast(date_trunc('month', t.bill_billing_period_start_date) as date)",
    "billing_currency": "t.line_item_currency_code",
    "charge_period_start": "t.line_item_usage_start_date",
    "charge_period_end": "t.line_item_usage_end_date",
    "charge_category": f"""case when {T} in {USAGE_TYPES} then 'Usage' when {T} = 'Tax' then 'Tax'
      when {T} in {CREDIT_TYPES} then 'Credit' when {T} in {PURCHASE_TYPES} then 'Purchase'
      else 'Adjustment' end""",
    "charge_class": f"case when {T} = 'Refund' then 'Correction' end",
    "charge_frequency": f"""case when {T} in {USAGE_TYPES} then 'Usage-Based'
      when {T} in ('RIFee', 'SavingsPlanRecurringFee') then 'Recurring' else 'One-Time' end""",
    "charge_description": "t.line_item_line_item_description",
    "line_item_type": T,
    "service_name": "t.line_item_product_code",
    "sku_or_usage_type": "t.line_item_usage_type",
    "instance_type": "t.product_instance_type",
    "resource_id": "t.line_item_resource_id",
    "region_id": "t.product_region_code",
    "commitment_discount_id": "coalesce(t.savings_plan_savings_plan_a_r_n, "
    "t.reservation_reservation_a_r_n)",
    "commitment_discount_type": f"case when {SP_ARN} is not null then 'Savings Plan' "
    f"when {RI_ARN} is not null then 'Reserved Instance' end",
    "commitment_discount_category": f"case when {SP_ARN} is not null then 'Spend' "
    f"when {RI_ARN} is not null then 'Usage' end",
    "commitment_discount_end": f"case when {SP_ARN} is not null then t.savings_plan_end_time "
    f"when {RI_ARN} is not null then t.reservation_end_time end",
    "invoice_id": "t.bill_invoice_id",
    "billed_cost": "t.line_item_unblended_cost",
    "effective_cost": EFFECTIVE,
    "list_cost": "t.pricing_public_on_demand_cost",
    "consumed_quantity": "t.line_item_usage_amount",
    "pricing_unit": "t.pricing_unit",
    "tags_json": "t.resource_tags",
}

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
