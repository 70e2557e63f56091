-- Per deployment, the week [$first_day, $last_day] on the allocation cost basis (busy + idle
-- + claimed non-GPU, effective USD): tokens, cost, actual $ per 1M input and output tokens
-- over the week's totals, the cost model's prediction, efficiency (predicted / actual cost),
-- idle cost, GPU-hours without telemetry and the largest saving recommended for it.
-- Prices per 1M tokens are exact like the mart's: DuckDB turns DECIMAL / integer into
-- DOUBLE, so they are taken in integer pico-dollars (10^-12) and truncated.
with tokens as (
    select
        deployment_id,
        any_value(llm_id) as llm_id,
        count(*) as days,
        cast(sum(input_tokens) as bigint) as input_tokens,
        cast(sum(output_tokens) as bigint) as output_tokens,
        sum(cost_usd) as cost_usd,
        sum(input_cost_usd) as input_cost_usd,
        sum(output_cost_usd) as output_cost_usd,
        string_agg(distinct split_method, ', ' order by split_method) as split_methods
    from marts.fct_cost_per_token_daily
    where cost_basis = 'allocation' and usage_date between $first_day and $last_day
    group by deployment_id
),

held as (
    select
        deployment_id,
        sum(effective_cost) filter (where allocation_kind = 'idle') as idle_cost_usd,
        round(sum(gpu_hours), 6) as gpu_hours,
        round(sum(unobserved_gpu_hours), 6) as unobserved_gpu_hours
    from marts.fct_cost_allocation_daily
    where
        deployment_id is not null
        and billing_currency = 'USD'
        and usage_date between $first_day and $last_day
    group by deployment_id
),

efficiency as (
    select
        e.deployment_id,
        sum(e.predicted_cost_usd) as predicted_cost_usd,
        sum(e.actual_cost_usd) as actual_cost_usd,
        -- predicted decode cost x 10^6, to weight the daily predicted prices by tokens
        sum(e.predicted_usd_per_1m_output_tokens * t.output_tokens) as predicted_output_usd_x1m,
        sum(t.output_tokens) filter (
            where e.predicted_usd_per_1m_output_tokens is not null
        ) as predicted_output_tokens,
        count(*) filter (where e.efficiency_source = 'calibrated') as calibrated_days,
        count(*) as efficiency_days
    from marts.fct_efficiency_daily as e
    left join marts.fct_cost_per_token_daily as t
        on
            e.deployment_id = t.deployment_id
            and e.usage_date = t.usage_date
            and t.cost_basis = 'allocation'
    where e.usage_date between $first_day and $last_day
    group by e.deployment_id
),

best as (
    select
        deployment_id,
        arg_max(kind, monthly_savings_usd) as best_kind,
        max(monthly_savings_usd) as best_monthly_savings_usd
    from marts.fct_recommendations
    where
        deployment_id is not null
        and as_of_date = (
            select max(as_of_date) from marts.fct_recommendations
            where as_of_date <= $last_day
        )
    group by deployment_id
)

select
    t.deployment_id,
    d.team,
    coalesce(d.llm_id, t.llm_id) as llm_id,
    d.gpu_type,
    d.gpu_count,
    t.days,
    t.input_tokens,
    t.output_tokens,
    t.cost_usd,
    case when t.input_tokens > 0 then cast(cast(
        (cast(t.input_cost_usd * 1000000000000 as hugeint) * 1000000) // t.input_tokens
        as decimal(38, 0)) * 0.000000000001 as decimal(38, 12))
    end as usd_per_1m_input_tokens,
    case when t.output_tokens > 0 then cast(cast(
        (cast(t.output_cost_usd * 1000000000000 as hugeint) * 1000000) // t.output_tokens
        as decimal(38, 0)) * 0.000000000001 as decimal(38, 12))
    end as usd_per_1m_output_tokens,
    case when e.predicted_output_tokens > 0 then cast(cast(
        cast(e.predicted_output_usd_x1m * 1000000000000 as hugeint) // e.predicted_output_tokens
        as decimal(38, 0)) * 0.000000000001 as decimal(38, 12))
    end as predicted_usd_per_1m_output_tokens,
    cast(e.predicted_cost_usd as double) / nullif(cast(e.actual_cost_usd as double), 0)
        as efficiency,
    case
        when e.deployment_id is null then null
        when e.calibrated_days = e.efficiency_days then 'calibrated'
        when e.calibrated_days = 0 then 'prior'
        else 'mixed'
    end as efficiency_source,
    h.idle_cost_usd,
    h.gpu_hours,
    h.unobserved_gpu_hours,
    t.split_methods,
    b.best_kind,
    b.best_monthly_savings_usd
from tokens as t
left join marts.dim_deployments as d on t.deployment_id = d.deployment_id
left join held as h on t.deployment_id = h.deployment_id
left join efficiency as e on t.deployment_id = e.deployment_id
left join best as b on t.deployment_id = b.deployment_id
order by t.cost_usd desc, t.deployment_id
