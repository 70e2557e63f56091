-- How the week's per-deployment numbers were made, in deployment-days: the input/output
-- split of the per-token cost (allocation basis) and the source of the efficiency prediction.
select
    'split_method' as measure,
    split_method as method,
    count(*) as deployment_days
from marts.fct_cost_per_token_daily
where cost_basis = 'allocation' and usage_date between $first_day and $last_day
group by split_method

union all

select
    'efficiency_source' as measure,
    efficiency_source as method,
    count(*) as deployment_days
from marts.fct_efficiency_daily
where usage_date between $first_day and $last_day
group by efficiency_source

order by measure desc, method
