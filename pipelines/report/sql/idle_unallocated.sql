-- Cost nobody used in [$first_day, $last_day]: idle GPU time per deployment and unallocated
-- cost (no deployment claims it), GPU instance cost apart from the rest, per currency.
select
    allocation_kind,
    coalesce(deployment_id, '(no deployment)') as deployment_id,
    billing_currency,
    round(sum(gpu_hours), 6) as gpu_hours,
    sum(effective_cost) as effective_cost,
    sum(gpu_effective_cost) as gpu_effective_cost,
    sum(effective_cost) - sum(gpu_effective_cost) as other_effective_cost
from marts.fct_cost_allocation_daily
where
    usage_date between $first_day and $last_day
    and allocation_kind in ('idle', 'unallocated')
group by all
order by effective_cost desc, allocation_kind, deployment_id
