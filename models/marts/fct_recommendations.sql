{{ config(tags=['recommend']) }}

{#- Recommended changes, one set per as_of_date (the last day of the window the engine ran
    on), typed for the contract. Rebuilt whole from raw, which keeps every as_of_date. -#}

with source as (
    select * from {{ source('recommend', 'recommendations') }}
),

final as (
    select
        as_of_date,
        deployment_id,
        instance_id,
        kind,
        summary,
        cast(monthly_savings_usd as decimal(38, 12)) as monthly_savings_usd,
        cast(confidence as double) as confidence,
        assumptions,
        target,
        cast(current_daily_cost_usd as decimal(38, 12)) as current_daily_cost_usd,
        cast(proposed_daily_cost_usd as decimal(38, 12)) as proposed_daily_cost_usd,
        cast(payback_months as double) as payback_months,
        cast(cash_monthly_savings_usd as decimal(38, 12)) as cash_monthly_savings_usd,
        cast(deferred_monthly_savings_usd as decimal(38, 12)) as deferred_monthly_savings_usd,
        cast(commitment_ids as {{ t_string() }}) as commitment_ids,
        cast(commitment_kind as {{ t_string() }}) as commitment_kind,
        cast(commitment_end_date as date) as commitment_end_date,
        as_of_date = max(as_of_date) over () as is_latest
    from source
)

select * from final
