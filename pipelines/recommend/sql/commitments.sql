-- Which commitment paid for each deployment's GPU cost over [$start, $end), and for the GPUs
-- no deployment held (per instance: idle instances' savings are split the same way). One row
-- per (deployment or instance, commitment); commitment_discount_id NULL is on demand. The end
-- is the term's UTC day (the connection is in UTC). Costs in USD, like the costs they split:
-- each line at its billing period's rate (int_billing__usd_rates, 1 for USD), in DECIMAL,
-- rounded to 10^-12 once per sum (RELIABILITY case 8).
with usd_rates as (
    select * from intermediate.int_billing__usd_rates
)

select
    c.deployment_id,
    case when c.deployment_id is null then c.resource_id end as instance_id,
    c.commitment_discount_id,
    min(c.commitment_discount_type) as commitment_discount_type,
    min(c.commitment_discount_category) as commitment_discount_category,
    cast(max(c.commitment_discount_end) as date) as commitment_end_date,
    round(sum(c.gpu_hours), 9) as gpu_hours,
    cast(sum(c.effective_cost * r.usd_per_unit) as decimal(38, 12)) as effective_cost_usd,
    cast(sum(c.billed_cost * r.usd_per_unit) as decimal(38, 12)) as billed_cost_usd
from intermediate.int_billing__commitment_coverage as c
inner join usd_rates as r
    on c.billing_currency = r.billing_currency and c.billing_period = r.billing_period
where c.usage_date >= $start and c.usage_date < $end
group by all
order by deployment_id nulls last, instance_id, commitment_discount_id nulls first
