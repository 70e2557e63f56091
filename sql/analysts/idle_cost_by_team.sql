-- Purpose: what idle GPUs cost each team — per owning team and billing currency over a
--   window, the cost its deployments held (allocated = busy + claimed non-GPU, and idle),
--   the idle part and its share. Unallocated cost (nobody's) is in idle_and_unallocated_cost.sql.
-- Marts used: marts.fct_cost_allocation_daily (allocation_kind allocated / idle);
--   marts.dim_deployments (team; '(no team)' when the registry names none).
-- Parameters (session variables, see sql/README.md; unset = the default):
--   window_days  INTEGER, default 30: days in the window, ending on end_date (included).
--   end_date     DATE, default the newest usage_date in fct_cost_allocation_daily.
-- Database: var/unitcost.analytics.duckdb, the read-only copy each run publishes; open it
--   read-only (`duckdb -readonly ...`). Never the writer file var/unitcost.duckdb.
-- Money is in the billing currency, never converted (one row per currency); effective =
--   amortized cost. idle_pct_of_held_cost is a share (DOUBLE, rounded to 0.01 %).
with params as (
    select
        coalesce(getvariable('window_days'), 30)::integer as window_days,
        coalesce(
            getvariable('end_date')::date,
            (select max(usage_date) from marts.fct_cost_allocation_daily)
        ) as end_date
),

held as (
    select
        coalesce(d.team, '(no team)') as team,
        a.billing_currency,
        a.deployment_id,
        a.allocation_kind,
        a.gpu_hours,
        a.effective_cost,
        a.billed_cost
    from marts.fct_cost_allocation_daily as a
    cross join params as p
    left join marts.dim_deployments as d on a.deployment_id = d.deployment_id
    where a.allocation_kind in ('allocated', 'idle')
        and a.usage_date > p.end_date - p.window_days
        and a.usage_date <= p.end_date
)

select
    team,
    billing_currency,
    count(distinct deployment_id) as deployments,
    sum(gpu_hours) as held_gpu_hours,
    coalesce(sum(gpu_hours) filter (where allocation_kind = 'idle'), 0) as idle_gpu_hours,
    sum(effective_cost) as held_effective_cost,
    coalesce(sum(effective_cost) filter (where allocation_kind = 'idle'), 0)
        as idle_effective_cost,
    coalesce(sum(billed_cost) filter (where allocation_kind = 'idle'), 0) as idle_billed_cost,
    round(100 * coalesce(sum(effective_cost) filter (where allocation_kind = 'idle'), 0)
        / nullif(sum(effective_cost), 0), 2) as idle_pct_of_held_cost
from held
group by team, billing_currency
order by billing_currency, idle_effective_cost desc, team;
