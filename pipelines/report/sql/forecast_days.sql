-- What the 30-day spend forecast is fitted on (pipelines/report/forecast.py): per deployment
-- and UTC day in [$fit_first_day, $last_day] (the FIT_DAYS days ending on the report's last
-- day), the day's tokens (input + output) and its actual cost, allocation basis, USD, from
-- marts.fct_efficiency_daily. A day without a row is not observed (left out, not zero).
select
    deployment_id,
    usage_date,
    cast(coalesce(input_tokens, 0) + coalesce(output_tokens, 0) as bigint) as tokens,
    cast(actual_cost_usd as decimal(38, 12)) as cost_usd
from marts.fct_efficiency_daily
where usage_date between $fit_first_day and $last_day and actual_cost_usd is not null
order by deployment_id, usage_date
