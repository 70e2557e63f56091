-- Per deployment, the week [$first_day, $last_day] from marts.fct_efficiency_daily (USD):
-- costs and the floor-to-actual waterfall summed over the week's days; efficiency and
-- modelled / actual recomputed from those sums (never a mean of daily ratios); prices per 1M
-- tokens over the week's tokens. Deployments with cost in fct_cost_allocation_daily but no
-- efficiency row are listed too (held_cost_usd, NULL efficiency figures). held_cost_usd
-- converts each bill at its billing period's rate (int_billing__usd_rates; RELIABILITY
-- case 8), so a deployment billed in several currencies holds all of them.
--
-- Bases: actual_cost_usd is the allocation basis (busy + idle + claimed non-GPU);
-- actual_usage_cost_usd the usage basis (busy GPU time only), the side modelled_cost_usd is
-- compared with. efficiency = floor_cost_usd / actual_cost_usd, and the blended prices
-- floor_ and actual_usd_per_1m_tokens (cost / all tokens) have exactly that ratio.
-- The input/output split prices are the mart's daily prices weighted by the day's tokens,
-- i.e. the week's input (or output) cost over the week's input (or output) tokens.
with week as (
    select * from marts.fct_efficiency_daily
    where usage_date between $first_day and $last_day
),

efficiency as (
    select
        deployment_id,
        arg_max(llm_id, usage_date) as llm_id,
        count(*) as days,
        cast(sum(requests) as bigint) as requests,
        cast(sum(input_tokens) as bigint) as input_tokens,
        cast(sum(output_tokens) as bigint) as output_tokens,
        sum(floor_cost_usd) as floor_cost_usd,
        sum(actual_cost_usd) as actual_cost_usd,
        sum(actual_usage_cost_usd) as actual_usage_cost_usd,
        sum(modelled_cost_usd) as modelled_cost_usd,
        sum(gap_kernel_efficiency_usd) as gap_kernel_efficiency_usd,
        sum(gap_batching_usd) as gap_batching_usd,
        sum(gap_residual_usd) as gap_residual_usd,
        sum(gap_over_provisioning_usd) as gap_over_provisioning_usd,
        sum(gap_idle_usd) as gap_idle_usd,
        sum(gap_unobserved_usd) as gap_unobserved_usd,
        sum(gap_non_gpu_usd) as gap_non_gpu_usd,
        -- price x tokens (USD x 10^6) and the tokens priced, per basis and direction
        sum(actual_usd_per_1m_input_tokens * input_tokens) as a_in_x1m,
        sum(input_tokens) filter (where actual_usd_per_1m_input_tokens is not null) as a_in,
        sum(actual_usd_per_1m_output_tokens * output_tokens) as a_out_x1m,
        sum(output_tokens) filter (where actual_usd_per_1m_output_tokens is not null) as a_out,
        sum(actual_usage_usd_per_1m_input_tokens * input_tokens) as u_in_x1m,
        sum(input_tokens) filter (where actual_usage_usd_per_1m_input_tokens is not null) as u_in,
        sum(actual_usage_usd_per_1m_output_tokens * output_tokens) as u_out_x1m,
        sum(output_tokens) filter (
            where actual_usage_usd_per_1m_output_tokens is not null
        ) as u_out,
        sum(modelled_usd_per_1m_input_tokens * input_tokens) as m_in_x1m,
        sum(input_tokens) filter (where modelled_usd_per_1m_input_tokens is not null) as m_in,
        sum(modelled_usd_per_1m_output_tokens * output_tokens) as m_out_x1m,
        sum(output_tokens) filter (where modelled_usd_per_1m_output_tokens is not null) as m_out,
        sum(floor_usd_per_1m_input_tokens * input_tokens) as f_in_x1m,
        sum(input_tokens) filter (where floor_usd_per_1m_input_tokens is not null) as f_in,
        sum(floor_usd_per_1m_output_tokens * output_tokens) as f_out_x1m,
        sum(output_tokens) filter (where floor_usd_per_1m_output_tokens is not null) as f_out,
        min(usd_per_gpu_hour) as usd_per_gpu_hour_min,
        max(usd_per_gpu_hour) as usd_per_gpu_hour_max,
        max(gpu_count) as gpu_count,
        max(gpus_needed) as gpus_needed,
        round(sum(busy_gpu_seconds) / 3600, 6) as busy_gpu_hours,
        round(sum(modelled_busy_gpu_seconds) / 3600, 6) as modelled_busy_gpu_hours,
        round(sum(floor_gpu_seconds) / 3600, 6) as floor_gpu_hours,
        -- the batch the busy time ran at: busy-time weighted
        round(
            sum(batch_observed * busy_gpu_seconds) / nullif(sum(busy_gpu_seconds), 0), 6
        ) as batch_observed,
        max(batch_max) as batch_max,
        round(avg(telemetry_coverage), 6) as telemetry_coverage,
        count(*) filter (where efficiency_source = 'calibrated') as calibrated_days,
        min(calibration_days) as calibration_days_min,
        max(calibration_days) as calibration_days_max,
        round(avg(mbu_used), 6) as mbu_used,
        round(avg(mfu_used), 6) as mfu_used,
        string_agg(distinct regime, ', ' order by regime) as regimes,
        string_agg(distinct split_method, ', ' order by split_method) as split_methods
    from week
    group by deployment_id
),

usd_rates as (
    select * from intermediate.int_billing__usd_rates
),

held as (
    -- every currency, each line at its billing period's rate (1 for USD), in DECIMAL,
    -- rounded to 10^-12 once per sum: what fct_efficiency_daily's _usd columns do
    select
        a.deployment_id,
        cast(sum(a.effective_cost * r.usd_per_unit) as decimal(38, 12)) as held_cost_usd,
        round(sum(a.gpu_hours), 6) as gpu_hours,
        round(sum(a.unobserved_gpu_hours), 6) as unobserved_gpu_hours
    from marts.fct_cost_allocation_daily as a
    inner join usd_rates as r
        on a.billing_currency = r.billing_currency and a.billing_period = r.billing_period
    where
        a.deployment_id is not null
        and a.usage_date between $first_day and $last_day
    group by a.deployment_id
),

-- the recommendation the headline counts for the deployment (recommendations.sql's order)
best as (
    select
        deployment_id,
        kind as best_kind,
        cash_monthly_savings_usd as best_cash_monthly_savings_usd,
        deferred_monthly_savings_usd as best_deferred_monthly_savings_usd
    from marts.fct_recommendations
    where
        deployment_id is not null
        and as_of_date = (
            select max(as_of_date) from marts.fct_recommendations
            where as_of_date <= $last_day
        )
    qualify row_number() over (
        partition by deployment_id
        order by cash_monthly_savings_usd desc, monthly_savings_usd desc, kind
    ) = 1
),

deployments as (
    select
        coalesce(e.deployment_id, h.deployment_id) as deployment_id,
        e.* exclude (deployment_id),
        h.held_cost_usd,
        h.gpu_hours,
        h.unobserved_gpu_hours
    from efficiency as e
    full outer join held as h on e.deployment_id = h.deployment_id
)

select
    x.deployment_id,
    d.team,
    coalesce(d.llm_id, x.llm_id) as llm_id,
    d.gpu_type,
    coalesce(x.gpu_count, d.gpu_count) as gpu_count,
    x.gpus_needed,
    x.days,
    x.requests,
    x.input_tokens,
    x.output_tokens,
    x.input_tokens + x.output_tokens as tokens,
    x.floor_cost_usd,
    x.actual_cost_usd,
    cast(x.floor_cost_usd as double) / nullif(cast(x.actual_cost_usd as double), 0)
        as efficiency,
    report_per_1m(x.floor_cost_usd, x.input_tokens + x.output_tokens)
        as floor_usd_per_1m_tokens,
    report_per_1m(x.actual_cost_usd, x.input_tokens + x.output_tokens)
        as actual_usd_per_1m_tokens,
    x.actual_usage_cost_usd,
    x.modelled_cost_usd,
    cast(x.modelled_cost_usd as double) / nullif(cast(x.actual_usage_cost_usd as double), 0)
        as modelled_to_actual_ratio,
    report_div(x.a_in_x1m, x.a_in) as actual_usd_per_1m_input_tokens,
    report_div(x.a_out_x1m, x.a_out) as actual_usd_per_1m_output_tokens,
    report_div(x.u_in_x1m, x.u_in) as actual_usage_usd_per_1m_input_tokens,
    report_div(x.u_out_x1m, x.u_out) as actual_usage_usd_per_1m_output_tokens,
    report_div(x.m_in_x1m, x.m_in) as modelled_usd_per_1m_input_tokens,
    report_div(x.m_out_x1m, x.m_out) as modelled_usd_per_1m_output_tokens,
    report_div(x.f_in_x1m, x.f_in) as floor_usd_per_1m_input_tokens,
    report_div(x.f_out_x1m, x.f_out) as floor_usd_per_1m_output_tokens,
    x.gap_kernel_efficiency_usd,
    x.gap_batching_usd,
    x.gap_residual_usd,
    x.gap_over_provisioning_usd,
    x.gap_idle_usd,
    x.gap_unobserved_usd,
    x.gap_non_gpu_usd,
    x.usd_per_gpu_hour_min,
    x.usd_per_gpu_hour_max,
    x.busy_gpu_hours,
    x.modelled_busy_gpu_hours,
    x.floor_gpu_hours,
    x.batch_observed,
    x.batch_max,
    x.telemetry_coverage,
    case
        when x.days is null then null
        when x.calibrated_days = x.days then 'calibrated'
        when x.calibrated_days = 0 then 'prior'
        else 'mixed'
    end as efficiency_source,
    x.calibrated_days,
    x.calibration_days_min,
    x.calibration_days_max,
    x.mbu_used,
    x.mfu_used,
    x.regimes,
    x.split_methods,
    x.held_cost_usd,
    x.gpu_hours,
    x.unobserved_gpu_hours,
    b.best_kind,
    b.best_cash_monthly_savings_usd,
    b.best_deferred_monthly_savings_usd
from deployments as x
left join marts.dim_deployments as d on x.deployment_id = d.deployment_id
left join best as b on x.deployment_id = b.deployment_id
order by coalesce(x.actual_cost_usd, x.held_cost_usd) desc, x.deployment_id
