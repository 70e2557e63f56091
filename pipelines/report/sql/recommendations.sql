-- The newest recommendations dated on or before $last_day (a run over a window dates its rows
-- by the window's last day), largest monthly saving first. is_largest_for_target marks one
-- row per deployment or instance: kinds are alternatives, so only those rows add up.
select
    as_of_date,
    deployment_id,
    instance_id,
    kind,
    summary,
    monthly_savings_usd,
    confidence,
    assumptions,
    target,
    current_daily_cost_usd,
    proposed_daily_cost_usd,
    payback_months,
    row_number() over (
        partition by coalesce(deployment_id, instance_id)
        order by monthly_savings_usd desc, kind
    ) = 1 as is_largest_for_target
from marts.fct_recommendations
where as_of_date = (
    select max(as_of_date) from marts.fct_recommendations
    where as_of_date <= $last_day
)
order by monthly_savings_usd desc, kind, deployment_id nulls last, instance_id
