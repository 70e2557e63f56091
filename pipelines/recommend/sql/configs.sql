-- Deployment configs with the price actually paid per GPU-hour over [$start, $end):
-- allocation-basis (allocated + idle) effective cost / GPU-hours, per deployment, and
-- whether the registry lets its traffic go to a hosted API (and which LLMs would do).
-- Cost in USD: each line at its billing period's rate (int_billing__usd_rates, 1 for USD),
-- in DECIMAL, rounded to 10^-12 once per sum (RELIABILITY case 8); no currency is left out.
-- A deployment without cost in the window has no price and is left out.
with usd_rates as (
    select * from intermediate.int_billing__usd_rates
),

cost as (
    select
        a.deployment_id,
        cast(sum(a.effective_cost * r.usd_per_unit) as decimal(38, 12)) as cost_usd,
        round(sum(a.gpu_hours), 9) as gpu_hours
    from marts.fct_cost_allocation_daily as a
    inner join usd_rates as r
        on a.billing_currency = r.billing_currency and a.billing_period = r.billing_period
    where
        a.allocation_kind in ('allocated', 'idle')
        and a.usage_date >= $start and a.usage_date < $end
    group by a.deployment_id
)

select
    d.deployment_id,
    d.llm_id,
    d.gpu_type,
    d.gpu_count,
    d.tensor_parallel,
    d.weight_precision,
    d.kv_cache_precision,
    d.engine,
    cast(cost.cost_usd as double) / cost.gpu_hours as usd_per_gpu_hour,
    d.api_eligible,
    d.api_substitute_llm_ids
from marts.dim_deployments as d
inner join cost on d.deployment_id = cost.deployment_id
where cost.gpu_hours > 0
order by d.deployment_id
