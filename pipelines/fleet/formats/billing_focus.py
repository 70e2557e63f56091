"""Render neutral bill lines as FOCUS 1.2 (or 1.3) rows, as AWS Data Exports write them.

The columns are AWS's FOCUS 1.2 export (the "FOCUS 1.2 with AWS columns" table: 57 FOCUS
columns and ``x_Discounts``, ``x_Operation``, ``x_ServiceCode``), in the same order; a
FOCUS 1.3 export adds the columns FOCUS 1.3 introduced (``FOCUS_13_COLUMNS``).

Where FOCUS and CUR model a charge differently (docs/billing-formats.md):
- a Savings Plan's hourly fee is a ``Purchase`` row (BilledCost the commitment, EffectiveCost
  0: it is amortized onto the usage it covers) and the part of the commitment no usage used
  is its own ``Usage`` row with ``CommitmentDiscountStatus`` ``Unused`` (BilledCost 0,
  EffectiveCost the unused amount). CUR puts that unused amount on the fee line instead;
  either way each dollar appears once.
- CUR's SP negation lines have no FOCUS row (covered usage has BilledCost 0 instead).
- quantities, units, SKU and prices are on ``Usage`` and ``Purchase`` rows only (a tax or a
  credit has none), units are FOCUS units ("Hours", "GB-Months", "GB").
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from pipelines.fleet.formats.billing_lines import ACCOUNT_ID, REGION, Line, next_month

ISO = "%Y-%m-%dT%H:%M:%SZ"
PROVIDER = "AWS"  # AWS writes "AWS" as provider, publisher and invoice issuer of its own charges
REGION_NAME = "US East (N. Virginia)"
AVAILABILITY_ZONE = "us-east-1a"
UNIT_PRICE_PLACES = Decimal("1e-12")
CATEGORY = {"sp_fee": "Purchase", "ri_fee": "Purchase", "support": "Purchase",
            "credit": "Credit", "refund": "Credit", "tax": "Tax"}  # fmt: skip
UNIT = {"Hrs": "Hours", "GB-Mo": "GB-Months", "GB": "GB"}  # CUR pricing units -> FOCUS units
SERVICE = {
    "AmazonEC2": "Amazon Elastic Compute Cloud",
    "AWSDataTransfer": "AWS Data Transfer",
    "ComputeSavingsPlans": "Savings Plans for AWS Compute usage",
    "AWSSupportBusiness": "AWS Support (Business)",
}
# (ServiceCategory, ServiceSubcategory) by service, from FOCUS 1.2's allowed pairs: one pair
# per ServiceName (ServiceName-C-005/-008), so EC2's EBS volumes are under EC2's Compute.
SERVICE_CATEGORY = {
    "AmazonEC2": ("Compute", "Virtual Machines"),
    "AWSDataTransfer": ("Networking", "Network Connectivity"),
    "ComputeSavingsPlans": ("Compute", "Virtual Machines"),
    "AWSSupportBusiness": ("Management and Governance", "Support"),
}
# (ResourceType, SkuMeter) by kind, for rows that name a resource.
RESOURCE = {
    "od_usage": ("Instance", "Compute Usage"),
    "sp_usage": ("Instance", "Compute Usage"),
    "ri_usage": ("Instance", "Compute Usage"),
    "storage": ("Volume", "Storage"),
    "egress": ("Data Transfer", "Data Transfer"),
    "sp_fee": ("Savings Plan", "Commitment"),
    "sp_unused": ("Savings Plan", "Commitment"),
    "ri_fee": ("Reserved Instance", "Commitment"),
    "support": ("Support Plan", "Support"),
}
COVERED = ("sp_usage", "ri_usage")
COMMITTED = (*COVERED, "sp_fee", "sp_unused", "ri_fee")
COMMITMENT = {"sp": ("Savings Plan", "Spend", "USD"), "ri": ("Reserved Instance", "Usage", "Hours")}

# The columns FOCUS 1.3 added (FOCUS_Spec 1.3 column pages); this writer fills them for an
# AWS-like single-provider bill: no allocation, no contract, host = service provider.
FOCUS_13_COLUMNS = (
    "AllocatedMethodDetails",
    "AllocatedMethodId",
    "AllocatedResourceId",
    "AllocatedResourceName",
    "AllocatedTags",
    "ContractApplied",
    "HostProviderName",
    "ServiceProviderName",
)


def _unit_price(cost: Decimal, quantity: Decimal) -> Decimal:
    # Unit price x PricingQuantity must give the cost (FOCUS ListCost-C-009, ContractedCost-C-009);
    # 12 places keep the product within 10^-9 of it for every line the simulator writes.
    price = (cost / quantity).quantize(UNIT_PRICE_PLACES) if quantity else Decimal(0)
    return price if price else Decimal(0)  # "0", not "0E-12", in the CSV


def _frequency(kind: str, category: str) -> str:
    if kind in ("sp_fee", "sp_unused", "ri_fee", "support"):  # hourly or monthly, on terms
        return "Recurring"
    return "Usage-Based" if category == "Usage" else "One-Time"


def focus_rows(lines: list[Line]) -> list[tuple[str, Line, Decimal, Decimal]]:
    """(kind, line, BilledCost, EffectiveCost) per FOCUS row: SP negations dropped, each SP
    fee split into its Purchase row and its Unused usage row."""
    rows = []
    for ln in lines:
        if ln.kind == "sp_negation":
            continue
        if ln.kind == "sp_fee":
            # CUR: billed = commitment, effective = the unused part (commitment - used)
            rows.append(("sp_fee", ln, ln.billed, Decimal(0)))
            rows.append(("sp_unused", ln, Decimal(0), ln.effective))
        elif ln.kind in COVERED:
            rows.append((ln.kind, ln, Decimal(0), ln.effective))
        else:
            rows.append((ln.kind, ln, ln.billed, ln.effective))
    return rows


def _row(kind: str, ln: Line, billed: Decimal, effective: Decimal) -> dict:
    category = CATEGORY.get(kind, "Usage")
    priced = category in ("Usage", "Purchase") and kind != "refund"
    committed = kind in COMMITTED
    covered = kind in COVERED
    consumed = category == "Usage" and kind != "sp_unused"
    unit = UNIT.get(ln.unit, ln.unit) if ln.unit else "Months"  # support: a monthly plan
    quantity = ln.quantity if ln.unit else Decimal(1)
    if kind == "sp_unused":  # an hour of unused commitment
        quantity, unit = Decimal(1), "Hours"
    # Contracted (negotiated, before commitment discounts) = on-demand here: no private rates.
    contracted = ln.list_cost if category == "Usage" and kind != "sp_unused" else billed
    if kind == "sp_unused":
        contracted = Decimal(0)
    kind_info = COMMITMENT.get(kind[:2]) if committed else None
    cd_quantity = None
    if committed:
        cd_quantity = {"sp_usage": ln.commitment, "sp_fee": ln.commitment,
                       "sp_unused": ln.effective, "ri_usage": Decimal(1),
                       "ri_fee": ln.quantity}[kind]  # fmt: skip
    service = SERVICE[ln.product_code]
    svc_category = SERVICE_CATEGORY[ln.product_code]
    resource_type, meter = RESOURCE.get(kind, (None, None))
    resource = ln.resource_id if resource_type else None
    sku = ln.usage_type if priced else None
    pricing = "Committed" if covered or kind == "sp_unused" else "Standard"
    list_unit = _unit_price(ln.list_cost, quantity) if priced else None
    contracted_unit = _unit_price(contracted, quantity) if priced else None
    return {
        "AvailabilityZone": AVAILABILITY_ZONE if ln.instance_type or kind == "storage" else None,
        "BilledCost": billed,
        "BillingAccountId": ACCOUNT_ID,
        "BillingAccountName": "unitcost-sim",
        "BillingAccountType": "Billing Account",
        "BillingCurrency": "USD",
        "BillingPeriodEnd": None,  # filled per period
        "BillingPeriodStart": None,
        "CapacityReservationId": None,
        "CapacityReservationStatus": None,
        "ChargeCategory": category,
        "ChargeClass": "Correction" if kind == "refund" else None,
        "ChargeDescription": f"{kind} {ln.usage_type}",
        "ChargeFrequency": _frequency(kind, category),
        "ChargePeriodEnd": ln.end.strftime(ISO),
        "ChargePeriodStart": ln.start.strftime(ISO),
        "CommitmentDiscountCategory": kind_info[1] if kind_info else None,
        "CommitmentDiscountId": ln.arn if committed else None,
        "CommitmentDiscountName": ln.arn.rsplit("/", 1)[-1] if committed else None,
        "CommitmentDiscountQuantity": cd_quantity,
        "CommitmentDiscountType": kind_info[0] if kind_info else None,
        "CommitmentDiscountUnit": kind_info[2] if kind_info else None,
        "CommitmentDiscountStatus": "Used"
        if covered
        else "Unused"
        if kind == "sp_unused"
        else None,  # fmt: skip
        "ConsumedQuantity": ln.quantity if consumed else None,
        "ConsumedUnit": unit if consumed else None,
        "ContractedCost": contracted,
        "ContractedUnitPrice": contracted_unit,
        "EffectiveCost": effective,
        "InvoiceId": None,  # filled per period
        "InvoiceIssuerName": PROVIDER,
        "ListCost": ln.list_cost if kind != "sp_unused" else Decimal(0),
        "ListUnitPrice": list_unit,
        "PricingCategory": pricing if priced else None,
        "PricingCurrency": "USD",
        "PricingCurrencyContractedUnitPrice": contracted_unit,
        "PricingCurrencyEffectiveCost": effective,
        "PricingCurrencyListUnitPrice": list_unit,
        "PricingQuantity": quantity if priced else None,
        "PricingUnit": unit if priced else None,
        "ProviderName": PROVIDER,
        "PublisherName": PROVIDER,
        "RegionId": REGION,
        "RegionName": REGION_NAME,
        "ResourceId": resource,
        "ResourceName": resource,
        "ResourceType": resource_type,
        "ServiceCategory": svc_category[0],
        "ServiceName": service,
        "ServiceSubcategory": svc_category[1],
        "SkuId": sku,
        "SkuMeter": meter if sku else None,
        "SkuPriceId": f"{sku}:{pricing}" if sku else None,
        "SkuPriceDetails": json.dumps({"InstanceType": ln.instance_type})
        if sku and ln.instance_type
        else None,
        "SubAccountId": ACCOUNT_ID,
        "SubAccountName": "unitcost-sim",
        "SubAccountType": "AWS Account",
        "Tags": json.dumps({"team": "inference"}) if ln.instance_type else None,
        "x_Discounts": None,
        "x_Operation": "RunInstances" if ln.instance_type else None,
        "x_ServiceCode": ln.product_code,
    }


def focus_columns(lines: list[Line], period: dt.date, version: str = "1.2") -> dict[str, list]:
    """The period's FOCUS columns (AWS's order), values as exact Decimals and ISO text."""
    rows = [_row(*r) for r in focus_rows(lines)]
    start = f"{period:%Y-%m-%d}T00:00:00Z"
    end = f"{next_month(period):%Y-%m-%d}T00:00:00Z"
    for row in rows:
        row.update(BillingPeriodStart=start, BillingPeriodEnd=end, InvoiceId=f"INV-{period:%Y%m}")
        if version == "1.3":
            row.update(dict.fromkeys(FOCUS_13_COLUMNS))
            row.update(HostProviderName=PROVIDER, ServiceProviderName=PROVIDER)
    return {name: [row[name] for row in rows] for name in column_names(version)}


def column_names(version: str = "1.2") -> list[str]:
    """The export's columns: AWS's FOCUS 1.2 list, then FOCUS 1.3's additions for 1.3."""
    epoch = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    probe = Line("od_usage", epoch, epoch, "", None, "", "AmazonEC2", Decimal(0), Decimal(0),
                 Decimal(0), Decimal(0), "")  # fmt: skip
    names = list(_row("od_usage", probe, Decimal(0), Decimal(0)))
    return names + list(FOCUS_13_COLUMNS) if version == "1.3" else names
