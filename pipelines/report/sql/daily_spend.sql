-- Fleet spend per UTC day in [$first_day, $last_day] by allocation kind, in the billing
-- currency (never converted). Money stays DECIMAL(38,12): sums of the mart's exact pieces.
select
    usage_date,
    billing_currency,
    allocation_kind,
    sum(billed_cost) as billed_cost,
    sum(effective_cost) as effective_cost,
    round(sum(gpu_hours), 6) as gpu_hours
from marts.fct_cost_allocation_daily
where usage_date between $first_day and $last_day
group by usage_date, billing_currency, allocation_kind
order by usage_date, billing_currency, allocation_kind
