-- The billed (invoiced) cost of the week [$first_day, $last_day] per currency, never summed
-- across currencies: what the report was built on, recorded per issue so that a bill changed
-- after the report went out marks the week's next report "restated" (restated.py). The
-- allocation mart holds every billed line exactly (period-level charges on the period's first
-- day), so this is the bill's share of the week.
select
    billing_currency,
    sum(billed_cost) as billed_cost
from marts.fct_cost_allocation_daily
where usage_date between $first_day and $last_day
group by billing_currency
order by billing_currency
