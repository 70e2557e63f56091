-- Purpose: where the money goes — effective cost and GPU-hours by allocation kind
--   (allocated = busy, idle, unallocated) per deployment, per billing period and currency.
-- Marts used: marts.fct_cost_allocation_daily.
-- Parameters: none.
-- Database: var/unitcost.analytics.duckdb, the read-only copy each run publishes; open it
--   read-only (`duckdb -readonly ...`). Never the writer file var/unitcost.duckdb.
select
    billing_period,
    billing_currency,
    coalesce(deployment_id, '(no deployment)') as deployment,
    allocation_kind,
    round(sum(gpu_hours), 1) as gpu_hours,
    sum(effective_cost) as effective_cost,
    sum(billed_cost) as billed_cost,
    round(100 * sum(effective_cost) / sum(sum(effective_cost)) over (
        partition by billing_period, billing_currency
    ), 2) as pct_of_period_effective_cost
from marts.fct_cost_allocation_daily
group by billing_period, billing_currency, deployment, allocation_kind
order by billing_period, billing_currency, effective_cost desc;
