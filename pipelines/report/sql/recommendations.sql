-- The newest recommendations dated on or before $last_day (a run over a window dates its rows
-- by the window's last day), most cash saved first. Savings are split by the mart into cash
-- saved now and savings deferred until a commitment ends (or capacity freed for reuse).
-- Kinds for one deployment or instance are alternatives: counts_in_headline marks the one per
-- target the headline adds up, the one saving the most cash now (then the most in total).
select
    as_of_date,
    deployment_id,
    instance_id,
    kind,
    summary,
    monthly_savings_usd,
    cash_monthly_savings_usd,
    deferred_monthly_savings_usd,
    commitment_ids,
    commitment_kind,
    commitment_end_date,
    confidence,
    assumptions,
    target,
    current_daily_cost_usd,
    proposed_daily_cost_usd,
    payback_months,
    is_latest,
    row_number() over (
        partition by coalesce(deployment_id, instance_id)
        order by cash_monthly_savings_usd desc, monthly_savings_usd desc, kind
    ) = 1 as counts_in_headline
from marts.fct_recommendations
where as_of_date = (
    select max(as_of_date) from marts.fct_recommendations
    where as_of_date <= $last_day
)
order by
    cash_monthly_savings_usd desc,
    monthly_savings_usd desc,
    kind,
    deployment_id nulls last,
    instance_id
