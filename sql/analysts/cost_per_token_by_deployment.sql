-- Purpose: what a token really costs — actual USD per 1M input and output tokens per
--   deployment over the last days in the warehouse, on both cost bases.
-- Marts used: marts.fct_cost_per_token_daily.
-- Parameters (session variables, see sql/README.md; unset = the default):
--   window_days  INTEGER, default 7: days in the window, ending on end_date (included).
--   end_date     DATE, default the newest usage_date in the mart.
-- Database: var/unitcost.analytics.duckdb, the read-only copy each run publishes; open it
--   read-only (`duckdb -readonly ...`). Never the writer file var/unitcost.duckdb.
-- Prices are DECIMAL(38,12), truncated at 10^-12 like the marts' own (macros/allocation.sql
--   usd_per_1m: DuckDB would turn DECIMAL / BIGINT into DOUBLE).
with params as (
    select
        coalesce(getvariable('window_days'), 7)::integer as window_days,
        coalesce(
            getvariable('end_date')::date,
            (select max(usage_date) from marts.fct_cost_per_token_daily)
        ) as end_date
),

in_window as (
    select f.*
    from marts.fct_cost_per_token_daily as f, params as p
    where f.usage_date > p.end_date - p.window_days and f.usage_date <= p.end_date
),

totals as (
    select
        deployment_id,
        any_value(llm_id) as llm_id,
        cost_basis,
        sum(cost_usd) as cost_usd,
        sum(input_tokens) as input_tokens,
        sum(output_tokens) as output_tokens,
        sum(input_cost_usd) as input_cost_usd,
        sum(output_cost_usd) as output_cost_usd,
        string_agg(distinct split_method, ', ' order by split_method) as split_methods
    from in_window
    group by deployment_id, cost_basis
)

select
    deployment_id,
    llm_id,
    cost_basis,
    cost_usd,
    input_tokens,
    output_tokens,
    case when input_tokens > 0 then cast(cast(
        (cast(input_cost_usd * 1000000000000 as hugeint) * 1000000) // input_tokens
        as decimal(38, 0)) * 0.000000000001 as decimal(38, 12)) end as usd_per_1m_input_tokens,
    case when output_tokens > 0 then cast(cast(
        (cast(output_cost_usd * 1000000000000 as hugeint) * 1000000) // output_tokens
        as decimal(38, 0)) * 0.000000000001 as decimal(38, 12)) end as usd_per_1m_output_tokens,
    split_methods
from totals
order by cost_usd desc, deployment_id, cost_basis;
