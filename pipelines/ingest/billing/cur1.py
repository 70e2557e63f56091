"""Legacy AWS Cost and Usage Reports (CUR 1) as billing line items: CSV, gzip CSV or Parquet.

CUR 1 names its columns ``<category>/<Field>`` (``lineItem/UnblendedCost``,
``bill/PayerAccountId``, ``resourceTags/user:team``), exactly as AWS writes them: names are
case-sensitive, and an Athena-style Parquet file (``line_item_unblended_cost``) is CUR 2.0's
naming, read with ``format: cur2``. The fields are CUR 2.0's under other names, so the
output SQL is ``cur2.outputs`` over the CUR 1 columns (one definition of the amortization);
where the FinOps Foundation's legacy-CUR -> FOCUS rules (``focus_converters``
``conversion_rules_export/csv/aws-cur.csv``; "rule N" below is its N-th data row) say more,
they are followed, and where unitcost departs from them it says why:

- rule 5, BilledCost: ``lineItem/NetUnblendedCost`` when present (a discounted account's
  invoice), else ``lineItem/UnblendedCost``.
- rule 20, EffectiveCost: cur2's amortization by line item type, the same CASE (an RIFee's
  absent unused fee counts 0 where the rule's ``+`` would give NULL).
- rules 6, 7, 9, 11, 13, 14, 18, 26, 27, 29, 30, 36, 39: column renames (account, currency,
  period, description, charge period in UTC, quantity, pricing unit, provider ``AWS``,
  region from ``product/region``, resource id, product code, usage account).
- rules 15, 16: the commitment (Savings Plan ARN, else the reservation ARN; ``Spend`` /
  ``Usage``). Rule 17 writes ``Reserved Instances (RI)``: unitcost keeps cur2's
  ``Reserved Instance``, the words its commitment logic and FOCUS exports use.
- rule 10, ChargeCategory, for Usage, the SP/RI usage and negation, Fee, RIFee, the SP fees
  and Tax. Credit and Refund are ``Credit`` here (the rule: ``Adjustment``), and the
  discount types (``EdpDiscount``…) ``Credit`` too (the rule: ``Usage``): FOCUS 1.0 added the
  ``Credit`` category for them, and allocation cuts ``Usage`` by hour and day while a
  discount belongs to its period, as cur2 reads them.
- not followed: rule 12 (ChargeFrequency from ``bill/BillType``: an ``Anniversary`` bill
  would make every usage line ``Recurring``; cur2's by line item type instead), rule 22
  (ListCost recomputed as rate x amount; AWS's own ``pricing/publicOnDemandCost`` is kept,
  exact), rule 37 (SkuId: unitcost's ``sku_or_usage_type`` is the usage type, as for cur2).

``product/instanceType`` is the instance type and ``bill/InvoiceId`` the invoice (no rule).
Tags: every ``resourceTags/<key>`` column, in ``tags_json`` under FOCUS's key convention
(``user:team`` -> ``team``; ``aws:createdBy`` kept); empty tags are left out. Columns that
are neither read nor tags and not a CUR 2.0 standard field by name (product attributes such
as ``product/storageClass``) are kept in ``extra_columns_json``.
"""

from __future__ import annotations

import logging
import re

import duckdb
import pyarrow as pa

from pipelines.ingest.billing import cur2
from pipelines.ingest.billing.columns import cur2_columns
from pipelines.ingest.billing.convert import FormatMapping, convert, extra_columns_json, quote
from pipelines.ingest.errors import SourceError

# CUR 2.0 field -> its CUR 1 column (AWS's CUR 1 data dictionary names).
NAMES = {
    "bill_payer_account_id": "bill/PayerAccountId",
    "line_item_usage_account_id": "lineItem/UsageAccountId",
    "line_item_currency_code": "lineItem/CurrencyCode",
    "line_item_line_item_type": "lineItem/LineItemType",
    "line_item_line_item_description": "lineItem/LineItemDescription",
    "line_item_product_code": "lineItem/ProductCode",
    "line_item_usage_type": "lineItem/UsageType",
    "product_instance_type": "product/instanceType",
    "line_item_resource_id": "lineItem/ResourceId",
    "product_region_code": "product/region",  # rule 29
    "savings_plan_savings_plan_a_r_n": "savingsPlan/SavingsPlanARN",
    "reservation_reservation_a_r_n": "reservation/ReservationARN",
    "bill_invoice_id": "bill/InvoiceId",
    "pricing_unit": "pricing/unit",
    "line_item_unblended_cost": "lineItem/UnblendedCost",
    "savings_plan_savings_plan_effective_cost": "savingsPlan/SavingsPlanEffectiveCost",
    "reservation_effective_cost": "reservation/EffectiveCost",
    "savings_plan_total_commitment_to_date": "savingsPlan/TotalCommitmentToDate",
    "savings_plan_used_commitment": "savingsPlan/UsedCommitment",
    "reservation_unused_amortized_upfront_fee_for_billing_period": (
        "reservation/UnusedAmortizedUpfrontFeeForBillingPeriod"
    ),
    "reservation_unused_recurring_fee": "reservation/UnusedRecurringFee",
    "pricing_public_on_demand_cost": "pricing/publicOnDemandCost",
    "bill_billing_period_start_date": "bill/BillingPeriodStartDate",
    "savings_plan_end_time": "savingsPlan/EndTime",
    "reservation_end_time": "reservation/EndTime",
    "line_item_usage_start_date": "lineItem/UsageStartDate",
    "line_item_usage_end_date": "lineItem/UsageEndDate",
    "line_item_usage_amount": "lineItem/UsageAmount",
}
log = logging.getLogger(__name__)
NET_UNBLENDED = "lineItem/NetUnblendedCost"
TAG_PREFIX = "resourceTags/"
INPUTS = {NAMES[name]: kind for name, kind in cur2.INPUTS.items() if name in NAMES}
INPUTS[NET_UNBLENDED] = "money"
# Without these a row has no account, period, currency, charge period, type or cost. The
# amortization inputs are needed only on the rows whose type uses them (REQUIRED_WHEN):
# AWS adds the savingsPlan/ and reservation/ columns once an account has a commitment.
REQUIRED = [NAMES[name] for name in sorted(cur2.NOT_NULL)]
TYPE = f"i.{quote(NAMES['line_item_line_item_type'])}"
REQUIRED_WHEN = [
    (NAMES[column], f"{TYPE} = '{kind}'", f"{kind} row") for column, kind in cur2.NEEDED_BY_TYPE
]
CHARGE_PERIOD = (NAMES["line_item_usage_start_date"], NAMES["line_item_usage_end_date"])


def _column(name: str) -> str:
    if name == "resource_tags":  # CUR 1 spreads tags over columns: _tags_sql replaces it
        return "NULL"
    return f"t.{quote(NAMES[name])}"


def tag_key(column: str) -> str:
    """FOCUS's Tags key of a ``resourceTags/`` column: user tags unprefixed, AWS's kept."""
    key = column[len(TAG_PREFIX) :]
    return key[len("user:") :] if key.startswith("user:") else key


def _tags_sql(tag_columns: list[str]) -> str:
    if not tag_columns:
        return "cast(NULL as json)"
    pairs = ", ".join(
        f"'{tag_key(c).replace(chr(39), chr(39) * 2)}', t.{quote(c)}" for c in tag_columns
    )
    # merge_patch drops the NULL members (RFC 7396): an untagged resource has no tag keys.
    merged = f"cast(json_merge_patch('{{}}', json_object({pairs})) as varchar)"
    return f"cast(nullif({merged}, '{{}}') as json)"


def _snake(column: str) -> str:
    """AWS's Athena/CUR 2.0 spelling of a CUR 1 name: ``savingsPlan/SavingsPlanARN`` ->
    ``savings_plan_savings_plan_a_r_n`` (each capital starts a word)."""
    return "_".join(
        re.sub("([A-Z])", r"_\1", part).lower().strip("_") for part in column.split("/")
    )


def mapping(names: list[str]) -> FormatMapping:
    """The mapping for a file with these columns (its tag columns vary)."""
    tags = [c for c in names if c.startswith(TAG_PREFIX)]
    outputs = cur2.outputs(_column)
    unblended = _column("line_item_unblended_cost")
    # rule 5: the invoiced amount of a discounted account is the net column
    outputs["billed_cost"] = f"coalesce(t.{quote(NET_UNBLENDED)}, {unblended})"
    outputs["tags_json"] = _tags_sql(tags)
    return FormatMapping(
        {**INPUTS, **dict.fromkeys(tags, "text")},
        outputs,
        not_null=set(REQUIRED),
        required_when=REQUIRED_WHEN,
        charge_period=CHARGE_PERIOD,
    )


def _missing(names: list[str], display: str) -> None:
    missing = [c for c in REQUIRED if c not in names]
    if not missing:
        return
    column = missing[0]
    problem = "CUR 1 required column is missing"
    folded = {n.lower(): n for n in names}
    if column.lower() in folded:
        problem += f" (the file has {folded[column.lower()]!r}: CUR 1 names are case-sensitive)"
    elif _snake(column) in names:
        problem += f" (the file has {_snake(column)!r}: that is CUR 2.0 naming, format: cur2)"
    raise SourceError(display, problem, column=column)


def read_cur1(con: duckdb.DuckDBPyConnection, table: pa.Table, display: str) -> pa.Table:
    """Line items of one legacy CUR file, with unknown columns in ``extra_columns_json``."""
    names = [n for n in table.column_names if n != "_line"]
    _missing(names, display)
    if NAMES["line_item_resource_id"] not in names:
        # Allowed (the real sample lacks it), but no GPU line can be matched to its host.
        log.warning(
            "billing: %s has no lineItem/ResourceId: no line can go to a deployment; include "
            "resource IDs in the report definition",
            display,
        )
    items = convert(con, table, mapping(names), display)
    items = items.append_column("focus_version", pa.nulls(items.num_rows, pa.string()))
    read = set(INPUTS)
    extra = [
        n
        for n in names
        if n not in read and not n.startswith(TAG_PREFIX) and _snake(n) not in cur2_columns()
    ]
    return items.append_column("extra_columns_json", extra_columns_json(table, extra))
