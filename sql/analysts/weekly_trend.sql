-- Purpose: the weekly trend — fleet spend and USD per 1M input / output tokens per ISO week
--   (Monday to Sunday, UTC), each against the week before (a week with no rows has no
--   change). `days` counts the days with rows: a partial week (the current one, or the
--   fleet's first) is not a fall in spend.
-- Marts used: marts.fct_cost_per_token_daily.
-- Parameters (session variables, see sql/README.md; unset = the default):
--   weeks        INTEGER, default 8: weeks shown, the last one holding end_date.
--   end_date     DATE, default the newest usage_date in the mart; later days are left out.
--   cost_basis   VARCHAR, default 'allocation' (busy + idle + claimed non-GPU cost); 'usage'
--                = busy GPU cost only.
-- Database: var/unitcost.analytics.duckdb, the read-only copy each run publishes; open it
--   read-only (`duckdb -readonly ...`). Never the writer file var/unitcost.duckdb.
-- Money and prices are DECIMAL(38,12); prices truncated at 10^-12 like the marts' own
--   (macros/allocation.sql usd_per_1m). The *_change_pct columns are DOUBLE, to 0.01 %.
with params as (
    select
        coalesce(getvariable('weeks'), 8)::integer as weeks,
        coalesce(
            getvariable('end_date')::date,
            (select max(usage_date) from marts.fct_cost_per_token_daily)
        ) as end_date,
        coalesce(getvariable('cost_basis'), 'allocation')::varchar as cost_basis
),

weekly as (
    select
        date_trunc('week', f.usage_date)::date as week_start,
        count(distinct f.usage_date) as days,
        count(distinct f.deployment_id) as deployments,
        sum(f.cost_usd) as cost_usd,
        sum(f.input_tokens) as input_tokens,
        sum(f.output_tokens) as output_tokens,
        sum(f.input_cost_usd) as input_cost_usd,
        sum(f.output_cost_usd) as output_cost_usd
    from marts.fct_cost_per_token_daily as f, params as p
    where f.usage_date <= p.end_date and f.cost_basis = p.cost_basis
    group by all
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
    from weekly
)

select
    w.week_start,
    w.days,
    w.deployments,
    w.cost_usd,
    w.input_tokens,
    w.output_tokens,
    w.usd_per_1m_input_tokens,
    w.usd_per_1m_output_tokens,
    w.cost_usd - prev.cost_usd as cost_change_usd,
    round(100 * (w.cost_usd - prev.cost_usd) / nullif(prev.cost_usd, 0), 2) as cost_change_pct,
    round(100 * (w.usd_per_1m_input_tokens - prev.usd_per_1m_input_tokens)
        / nullif(prev.usd_per_1m_input_tokens, 0), 2) as usd_per_1m_input_tokens_change_pct,
    round(100 * (w.usd_per_1m_output_tokens - prev.usd_per_1m_output_tokens)
        / nullif(prev.usd_per_1m_output_tokens, 0), 2) as usd_per_1m_output_tokens_change_pct
from priced as w
cross join params as p
left join priced as prev on prev.week_start = w.week_start - 7
where w.week_start > date_trunc('week', p.end_date)::date - 7 * p.weeks
order by w.week_start;
