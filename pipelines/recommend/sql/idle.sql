-- Billed GPU instances none of whose GPUs a deployment held in [$start, $end), with their
-- mean effective USD cost per day billed. Savings Plan negation pieces (0 GPU-hours) count
-- in the cost, so an instance is idle only if it was billed for GPU time at all.
select
    resource_id as instance_id,
    min(instance_type) as instance_type,
    min(gpu_type) as gpu_id,
    max(gpus_per_instance) as gpu_count,
    cast(sum(effective_cost) as double) / count(distinct usage_date) as usd_per_day,
    count(distinct usage_date) as days_observed
from intermediate.int_allocation__gpu_hours
where billing_currency = 'USD' and usage_date >= $start and usage_date < $end
group by resource_id
having count(deployment_id) = 0 and sum(gpu_hours) > 0
order by resource_id
