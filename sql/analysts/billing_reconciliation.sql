-- Purpose: prove the allocation conserves the bill — per account, period and currency, the
--   allocated + idle + unallocated totals next to the delivered bill (differences must be 0).
-- Marts used: marts.fct_cost_allocation_daily; intermediate.int_billing__line_items for the
--   bill (cloud exports and on-prem hosts' lines).
-- Parameters: none.
-- Database: var/unitcost.analytics.duckdb, the read-only copy each run publishes; open it
--   read-only (`duckdb -readonly ...`). Never the writer file var/unitcost.duckdb.
with allocated as (
    select
        billing_account_id, billing_period, billing_currency,
        sum(billed_cost) filter (where allocation_kind = 'allocated') as allocated_billed_cost,
        sum(billed_cost) filter (where allocation_kind = 'idle') as idle_billed_cost,
        sum(billed_cost) filter (where allocation_kind = 'unallocated') as unallocated_billed_cost,
        sum(billed_cost) as total_billed_cost,
        sum(effective_cost) as total_effective_cost
    from marts.fct_cost_allocation_daily
    group by all
),

bill as (
    select
        billing_account_id, billing_period, billing_currency,
        sum(billed_cost) as bill_billed_cost,
        sum(effective_cost) as bill_effective_cost
    from intermediate.int_billing__line_items
    group by all
)

select
    allocated.*,
    bill.bill_billed_cost,
    allocated.total_billed_cost - bill.bill_billed_cost as billed_difference,
    allocated.total_effective_cost - bill.bill_effective_cost as effective_difference
from allocated
inner join bill using (billing_account_id, billing_period, billing_currency)
order by billing_period, billing_account_id, billing_currency;
