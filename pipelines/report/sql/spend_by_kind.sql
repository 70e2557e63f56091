-- The week's spend by allocation kind (allocated = busy, idle, unallocated) per currency:
-- GPU instance cost and everything else (volumes, egress, fees, credits, tax) apart.
-- GPU-hours are rounded so re-runs are bit-identical (parallel float sums).
with week as (
    select *
    from marts.fct_cost_allocation_daily
    where usage_date between $first_day and $last_day
),

kinds as (
    select
        billing_currency,
        allocation_kind,
        sum(billed_cost) as billed_cost,
        sum(effective_cost) as effective_cost,
        sum(gpu_effective_cost) as gpu_effective_cost,
        sum(effective_cost) - sum(gpu_effective_cost) as other_effective_cost,
        round(sum(gpu_hours), 6) as gpu_hours,
        round(sum(unobserved_gpu_hours), 6) as unobserved_gpu_hours
    from week
    group by billing_currency, allocation_kind
)

select
    *,
    cast(effective_cost as double)
    / nullif(cast(sum(effective_cost) over (partition by billing_currency) as double), 0)
        as share_of_effective_cost
from kinds
order by billing_currency, array_position(['allocated', 'idle', 'unallocated'], allocation_kind)
