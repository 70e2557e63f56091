-- How the week's per-deployment numbers were made, in deployment-days, from
-- marts.fct_efficiency_daily: the input/output split of the per-token prices and whether the
-- cost model's efficiencies were calibrated (fitted on earlier days) or the prior.
select
    'split_method' as measure,
    split_method as method,
    count(*) as deployment_days
from marts.fct_efficiency_daily
where usage_date between $first_day and $last_day
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
