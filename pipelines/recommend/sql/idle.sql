-- Billed GPU instances none of whose GPUs a deployment held in [$start, $end), with their
-- mean effective cost per day billed, USD: each line at its billing period's rate
-- (int_billing__usd_rates, 1 for USD), summed in DECIMAL (RELIABILITY case 8). Savings Plan
-- negation pieces (0 GPU-hours) count in the cost, so an instance is idle only if it was
-- billed for GPU time at all.
with usd_rates as (
    select * from intermediate.int_billing__usd_rates
)

select
    g.resource_id as instance_id,
    min(g.instance_type) as instance_type,
    min(g.gpu_type) as gpu_id,
    max(g.gpus_per_instance) as gpu_count,
    cast(cast(sum(g.effective_cost * r.usd_per_unit) as decimal(38, 12)) as double)
    / count(distinct g.usage_date) as usd_per_day,
    count(distinct g.usage_date) as days_observed
from intermediate.int_allocation__gpu_hours as g
inner join usd_rates as r
    on g.billing_currency = r.billing_currency and g.billing_period = r.billing_period
where g.usage_date >= $start and g.usage_date < $end
group by g.resource_id
having count(g.deployment_id) = 0 and sum(g.gpu_hours) > 0
order by g.resource_id
