-- Per deployment, the week's [$first_day, $last_day] most saturated vLLM hour
-- (marts.fct_saturation_hourly): the most requests waiting (p95), then the most
-- preemptions, then the fullest KV cache (p95), then the earliest; its KV and queue figures,
-- and the week's preemptions.
with week as (
    select *
    from marts.fct_saturation_hourly
    where cast(hour_start as date) between $first_day and $last_day
),

peak as (
    select *
    from week
    qualify row_number() over (
        partition by deployment_id
        order by waiting_p95_requests desc nulls last, preemptions desc nulls last,
            kv_cache_usage_p95_frac desc nulls last, hour_start
    ) = 1
),

totals as (
    select
        deployment_id,
        count(*) as hours,
        sum(preemptions) as week_preemptions,
        count(*) filter (where waiting_p95_requests > 0) as hours_queued,
        count(*) filter (where preemptions > 0) as hours_preempting
    from week
    group by deployment_id
)

select
    p.deployment_id,
    p.hour_start as peak_hour_start,
    p.kv_cache_usage_p95_frac,
    p.kv_cache_usage_max_frac,
    p.waiting_p95_requests,
    p.waiting_max_requests,
    p.preemptions as peak_hour_preemptions,
    t.week_preemptions,
    t.hours,
    t.hours_queued,
    t.hours_preempting
from peak as p
inner join totals as t on p.deployment_id = t.deployment_id
order by p.waiting_p95_requests desc nulls last, t.week_preemptions desc nulls last,
    p.deployment_id
