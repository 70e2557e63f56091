{{ config(tags=['recommend']) }}

{#- The engine's predicted vs actual cost per deployment-day, typed for the contract. A
    table rebuilt whole from its raw source on every run: raw holds the partitioned history
    (the asset replaces its window's days), this is a few rows per deployment per day. -#}

with source as (
    select * from {{ source('recommend', 'predicted_efficiency_daily') }}
),

final as (
    select
        usage_date,
        deployment_id,
        cast(predicted_usd_per_1m_input_tokens as decimal(38, 12))
            as predicted_usd_per_1m_input_tokens,
        cast(predicted_usd_per_1m_output_tokens as decimal(38, 12))
            as predicted_usd_per_1m_output_tokens,
        cast(actual_usd_per_1m_input_tokens as decimal(38, 12))
            as actual_usd_per_1m_input_tokens,
        cast(actual_usd_per_1m_output_tokens as decimal(38, 12))
            as actual_usd_per_1m_output_tokens,
        cast(efficiency as double) as efficiency,
        cast(predicted_cost_usd as decimal(38, 12)) as predicted_cost_usd,
        cast(actual_cost_usd as decimal(38, 12)) as actual_cost_usd,
        cast(gap_over_provisioning_usd as decimal(38, 12)) as gap_over_provisioning_usd,
        cast(gap_idle_usd as decimal(38, 12)) as gap_idle_usd,
        cast(gap_batching_usd as decimal(38, 12)) as gap_batching_usd,
        cast(gap_kernel_efficiency_usd as decimal(38, 12)) as gap_kernel_efficiency_usd,
        cast(gap_residual_usd as decimal(38, 12)) as gap_residual_usd,
        efficiency_source,
        efficiency_source = 'calibrated' as is_calibrated,
        cast(mbu_used as double) as mbu_used,
        cast(mfu_used as double) as mfu_used,
        regime
    from source
)

select * from final
