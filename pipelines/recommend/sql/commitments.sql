-- Which commitment paid for each deployment's GPU cost over [$start, $end), and for the GPUs
-- no deployment held (per instance: idle instances' savings are split the same way). One row
-- per (deployment or instance, commitment); commitment_discount_id NULL is on demand. The end
-- is the term's UTC day (the connection is in UTC). USD only, like the costs it splits.
select
    deployment_id,
    case when deployment_id is null then resource_id end as instance_id,
    commitment_discount_id,
    min(commitment_discount_type) as commitment_discount_type,
    min(commitment_discount_category) as commitment_discount_category,
    cast(max(commitment_discount_end) as date) as commitment_end_date,
    round(sum(gpu_hours), 9) as gpu_hours,
    sum(effective_cost) as effective_cost_usd,
    sum(billed_cost) as billed_cost_usd
from intermediate.int_billing__commitment_coverage
where billing_currency = 'USD' and usage_date >= $start and usage_date < $end
group by all
order by deployment_id nulls last, instance_id, commitment_discount_id nulls first
