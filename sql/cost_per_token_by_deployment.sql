-- Purpose: what a token really costs — actual USD per 1M input and output tokens per
--   deployment over the last 7 days in the warehouse, on both cost bases.
-- Marts used: marts.fct_cost_per_token_daily.
-- Parameters: none (the window ends at the newest day in the mart).
-- Database: var/unitcost.analytics.duckdb, the read-only copy each run publishes; open it
--   read-only (`duckdb -readonly ...`). Never the writer file var/unitcost.duckdb.
with last_day as (
    select max(usage_date) as day from marts.fct_cost_per_token_daily
),

week as (
    select f.*
    from marts.fct_cost_per_token_daily as f, last_day
    where f.usage_date > last_day.day - interval 7 day
)

select
    deployment_id,
    any_value(llm_id) as llm_id,
    cost_basis,
    sum(cost_usd) as cost_usd,
    sum(input_tokens) as input_tokens,
    sum(output_tokens) as output_tokens,
    sum(input_cost_usd) * 1000000 / nullif(sum(input_tokens), 0) as usd_per_1m_input_tokens,
    sum(output_cost_usd) * 1000000 / nullif(sum(output_tokens), 0) as usd_per_1m_output_tokens,
    string_agg(distinct split_method, ', ') as split_methods
from week
group by deployment_id, cost_basis
order by cost_usd desc, deployment_id, cost_basis;
