-- Purpose: showback — what each tenant's requests to the self-hosted LLMs cost over a period,
--   per deployment: requests, GPU-hours, tokens, cost, its share of the period's cost and
--   its USD per 1M tokens (input + output). 'unattributed' is traffic whose log names no
--   tenant, and deployment-days that served no request.
-- Marts used: marts.fct_cost_by_tenant_daily.
-- Parameters (session variables, see sql/README.md; unset = the default):
--   window_days  INTEGER, default 30: days in the window, ending on end_date (included).
--   end_date     DATE, default the newest usage_date in fct_cost_by_tenant_daily.
--   cost_basis   VARCHAR, default 'allocation' (busy + idle + claimed non-GPU cost, what a
--                chargeback must recover); 'usage': busy GPU cost only.
-- Database: var/unitcost.analytics.duckdb, the read-only copy each run publishes; open it
--   read-only (`duckdb -readonly ...`). Never the writer file var/unitcost.duckdb.
with params as (
    select
        coalesce(getvariable('window_days'), 30)::integer as window_days,
        coalesce(
            getvariable('end_date')::date,
            (select max(usage_date) from marts.fct_cost_by_tenant_daily)
        ) as end_date,
        coalesce(getvariable('cost_basis'), 'allocation') as cost_basis
),

period as (
    select t.*
    from marts.fct_cost_by_tenant_daily as t
    cross join params as p
    where t.usage_date > p.end_date - p.window_days
        and t.usage_date <= p.end_date
        and t.cost_basis = p.cost_basis
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
