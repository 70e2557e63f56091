-- Purpose: the cost-per-token league table — deployments ranked by actual USD per 1M output
--   tokens and per 1M input tokens over a window (rank 1 = the most expensive, the first to
--   look at; a deployment without such tokens has no price and ranks last).
-- Marts used: marts.fct_cost_per_token_daily (cost, tokens, the input/output split);
--   marts.dim_deployments (team, GPU).
-- Parameters (session variables, see sql/README.md; unset = the default):
--   window_days  INTEGER, default 7: days in the window, ending on end_date (included).
--   end_date     DATE, default the newest usage_date in the mart.
--   cost_basis   VARCHAR, default 'allocation' (busy + idle + claimed non-GPU cost); 'usage'
--                = busy GPU cost only.
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
        ) as end_date,
        coalesce(getvariable('cost_basis'), 'allocation')::varchar as cost_basis
),

totals as (
    select
        f.deployment_id,
        f.cost_basis,
        count(distinct f.usage_date) as days,
        sum(f.cost_usd) as cost_usd,
        sum(f.input_tokens) as input_tokens,
        sum(f.output_tokens) as output_tokens,
        sum(f.input_cost_usd) as input_cost_usd,
        sum(f.output_cost_usd) as output_cost_usd
    from marts.fct_cost_per_token_daily as f, params as p
    where f.usage_date > p.end_date - p.window_days
        and f.usage_date <= p.end_date
        and f.cost_basis = p.cost_basis
    group by f.deployment_id, f.cost_basis
),

priced as (
    select
        *,
        case when input_tokens > 0 then cast(cast(
            (cast(input_cost_usd * 1000000000000 as hugeint) * 1000000) // input_tokens
            as decimal(38, 0)) * 0.000000000001 as decimal(38, 12)) end
            as usd_per_1m_input_tokens,
        case when output_tokens > 0 then cast(cast(
            (cast(output_cost_usd * 1000000000000 as hugeint) * 1000000) // output_tokens
            as decimal(38, 0)) * 0.000000000001 as decimal(38, 12)) end
            as usd_per_1m_output_tokens
    from totals
)

select
    rank() over (order by p.usd_per_1m_output_tokens desc nulls last) as output_rank,
    rank() over (order by p.usd_per_1m_input_tokens desc nulls last) as input_rank,
    p.deployment_id,
    d.team,
    d.llm_id,
    d.gpu_type,
    d.gpu_count,
    p.cost_basis,
    p.days,
    p.cost_usd,
    p.input_tokens,
    p.output_tokens,
    p.usd_per_1m_input_tokens,
    p.usd_per_1m_output_tokens
from priced as p
left join marts.dim_deployments as d on p.deployment_id = d.deployment_id
order by output_rank, input_rank, p.deployment_id;
