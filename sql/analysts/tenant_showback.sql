-- Purpose: showback — what each tenant's requests to the self-hosted LLMs cost over a period,
--   per deployment: requests, GPU-hours, tokens, cost, its share of the period's cost and
--   its USD per 1M tokens (input + output). 'unattributed' is traffic whose log names no
--   tenant, and deployment-days that served no request.
-- Marts used: marts.fct_cost_by_tenant_daily.
-- Parameters: $start_date (DATE, first day, inclusive), $end_date (DATE, exclusive),
--   $cost_basis ('allocation': busy + idle + claimed non-GPU cost, what a chargeback must
--   recover; 'usage': busy GPU cost only).
-- Database: var/unitcost.analytics.duckdb, the read-only copy each run publishes; open it
--   read-only (`duckdb -readonly ...`). Never the writer file var/unitcost.duckdb.
with period as (
    select *
    from marts.fct_cost_by_tenant_daily
    where usage_date >= $start_date and usage_date < $end_date and cost_basis = $cost_basis
),

by_tenant_deployment as (
    select
        tenant,
        deployment_id,
        sum(requests) as requests,
        sum(gpu_seconds) / 3600 as gpu_hours,
        sum(input_tokens) as input_tokens,
        sum(output_tokens) as output_tokens,
        sum(cost_usd) as cost_usd
    from period
    group by tenant, deployment_id
)

select
    tenant,
    deployment_id,
    requests,
    round(gpu_hours, 3) as gpu_hours,
    input_tokens,
    output_tokens,
    cost_usd,
    sum(cost_usd) over (partition by tenant) as tenant_cost_usd,
    round(cost_usd / nullif(sum(cost_usd) over (), 0), 4) as share_of_period_cost,
    cast(cost_usd * 1000000 / nullif(input_tokens + output_tokens, 0) as decimal(38, 6))
        as usd_per_1m_tokens
from by_tenant_deployment
order by tenant_cost_usd desc, tenant, cost_usd desc, deployment_id;
