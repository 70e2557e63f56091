-- Purpose: where the cost model and the bill disagree — deployment-days whose modelled busy
--   cost is outside a band around the measured (usage-basis) actual, most extreme first,
--   with what the fit rested on (efficiency source, calibration, telemetry coverage).
-- Marts used: marts.fct_efficiency_daily (modelled_to_actual_ratio = modelled_cost_usd /
--   actual_usage_cost_usd, the mart's one definition); marts.dim_deployments (team).
-- Parameters (session variables, see sql/README.md; unset = the default):
--   window_days  INTEGER, default 28: days in the window, ending on end_date (included).
--   end_date     DATE, default the newest usage_date in the mart.
--   ratio_low    DOUBLE, default 0.8: a day is an outlier if modelled / actual < ratio_low
--   ratio_high   DOUBLE, default 1.25: or modelled / actual > ratio_high (a ratio on a bound
--                is inside). The defaults are a factor of 1.25 either way, so they flag
--                the same days as actual / modelled outside [0.8, 1.25].
-- Database: var/unitcost.analytics.duckdb, the read-only copy each run publishes; open it
--   read-only (`duckdb -readonly ...`). Never the writer file var/unitcost.duckdb.
-- Days without a ratio (no modelled cost, or no measured busy cost) are left out.
with params as (
    select
        coalesce(getvariable('window_days'), 28)::integer as window_days,
        coalesce(
            getvariable('end_date')::date,
            (select max(usage_date) from marts.fct_efficiency_daily)
        ) as end_date,
        coalesce(getvariable('ratio_low'), 0.8)::double as ratio_low,
        coalesce(getvariable('ratio_high'), 1.25)::double as ratio_high
)

select
    e.usage_date,
    e.deployment_id,
    d.team,
    e.llm_id,
    case
        when e.modelled_to_actual_ratio < p.ratio_low then 'modelled below actual'
        else 'modelled above actual'
    end as direction,
    e.modelled_to_actual_ratio,
    e.actual_usage_cost_usd,
    e.modelled_cost_usd,
    e.gap_residual_usd,
    e.requests,
    e.efficiency_source,
    e.calibration_scope,
    e.calibration_days,
    e.telemetry_coverage,
    e.observed_request_share
from marts.fct_efficiency_daily as e
cross join params as p
left join marts.dim_deployments as d on e.deployment_id = d.deployment_id
where e.usage_date > p.end_date - p.window_days
    and e.usage_date <= p.end_date
    and e.modelled_to_actual_ratio is not null
    and not isnan(e.modelled_to_actual_ratio)
    and (e.modelled_to_actual_ratio < p.ratio_low or e.modelled_to_actual_ratio > p.ratio_high)
-- most extreme first: the factor away from 1 either way (a ratio of 0 is the most extreme)
order by
    case when e.modelled_to_actual_ratio > 0
        then greatest(e.modelled_to_actual_ratio, 1 / e.modelled_to_actual_ratio) end
        desc nulls first,
    e.usage_date,
    e.deployment_id;
