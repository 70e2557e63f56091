-- Deployment configs with the price actually paid per GPU-hour over [$start, $end):
-- allocation-basis (allocated + idle) effective USD cost / GPU-hours, per deployment, and
-- whether the registry lets its traffic go to a hosted API (and which LLMs would do).
-- A deployment without USD cost in the window has no price and is left out.
with cost as (
    select
        deployment_id,
        sum(effective_cost) as cost_usd,
        round(sum(gpu_hours), 9) as gpu_hours
    from marts.fct_cost_allocation_daily
    where
        allocation_kind in ('allocated', 'idle')
        and billing_currency = 'USD'
        and usage_date >= $start and usage_date < $end
    group by deployment_id
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
