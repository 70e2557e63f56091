{{ config(tags=['recommend']) }}

{#- Actual vs modelled vs floor cost per deployment-day, and the gap from floor to actual.
    The engine (raw.predicted_efficiency_daily) gives GPU-seconds, the physics; money is
    priced here, in DECIMAL, at the deployment's effective USD per GPU-second that day
    (its GPU cost, allocated + idle, over its billed GPU-seconds):
      actual    fct_cost_per_token_daily, both bases, the one input/output split;
      modelled  price × the cost model's busy GPU-seconds for the day's observed traffic
                (observed batch, fitted efficiency) + the cost of GPU-hours telemetry did
                not observe (assumed busy on both sides): vs the usage-basis actual;
      floor     price × the same traffic at the batch memory allows on the fewest GPUs
                that fit, Tier-0 kernels, no idle.
    The waterfall from floor to the allocation-basis actual, each step from its own
    evidence: over-provisioning (a larger TP than the smallest that fits: cost model; GPUs
    held beyond those needed for the measured busy time: billing + DCGM), kernel efficiency
    (fitted vs prior efficiency at the best batch: request timings), batching (observed vs
    best batch: the sweep's concurrency), residual (DCGM-measured busy cost - modelled: the
    cost model's error, as measured, never forced to zero), idle (DCGM), unobserved (no
    telemetry), non-GPU (claimed non-GPU lines). A table rebuilt whole on every run: raw
    holds the partitioned history (the asset replaces its window's days). -#}

with engine as (
    select * from {{ source('recommend', 'predicted_efficiency_daily') }}
),

gpu as (
    -- in USD at each bill's billing-period rate (int_billing__usd_rates; 1 for USD)
    select
        g.deployment_id,
        g.usage_date,
        cast(sum(g.effective_cost * r.usd_per_unit) as decimal(38, 12)) as gpu_cost_usd,
        cast(sum(g.effective_cost * r.usd_per_unit) filter (where not g.telemetry_observed)
            as decimal(38, 12)) as unobserved_cost_usd,
        -- GPU-hours summed as DECIMAL (each piece rounded to 12 decimals), as in
        -- fct_gpu_busy_hourly: a parallel DOUBLE sum's last bit depends on the order its
        -- threads finish, and these seconds divide money below
        cast(sum(cast(g.gpu_hours as decimal(38, 12))) * 3600 as double) as held_gpu_seconds,
        cast(
            sum(cast(g.gpu_hours as decimal(38, 12))) filter (where g.telemetry_observed) * 3600
            as double
        ) as observed_gpu_seconds,
        cast(
            sum(cast(g.gpu_hours * g.busy_fraction as decimal(38, 12)))
                filter (where g.telemetry_observed) * 3600
            as double
        ) as busy_gpu_seconds
    from {{ ref('int_allocation__gpu_hours') }} as g
    inner join {{ ref('int_billing__usd_rates') }} as r
        on g.billing_currency = r.billing_currency and g.billing_period = r.billing_period
    where g.deployment_id is not null
    group by g.deployment_id, g.usage_date
    having sum(g.gpu_hours) > 0
),

actual as (
    select
        a.usage_date,
        a.deployment_id,
        a.llm_id,
        a.input_tokens,
        a.output_tokens,
        a.split_method,
        a.cost_usd as actual_cost_usd,
        a.usd_per_1m_input_tokens as actual_usd_per_1m_input_tokens,
        a.usd_per_1m_output_tokens as actual_usd_per_1m_output_tokens,
        u.cost_usd as actual_usage_cost_usd,
        u.usd_per_1m_input_tokens as actual_usage_usd_per_1m_input_tokens,
        u.usd_per_1m_output_tokens as actual_usage_usd_per_1m_output_tokens
    from {{ ref('fct_cost_per_token_daily') }} as a
    inner join {{ ref('fct_cost_per_token_daily') }} as u
        on a.usage_date = u.usage_date
        and a.deployment_id = u.deployment_id
        and u.cost_basis = 'usage'
    where a.cost_basis = 'allocation'
),

joined as (
    select
        actual.*,
        {{ star_except('engine', ['usage_date', 'deployment_id']) }},
        gpu.gpu_cost_usd,
        coalesce(gpu.unobserved_cost_usd, 0) as unobserved_cost_usd,
        gpu.held_gpu_seconds,
        coalesce(gpu.observed_gpu_seconds, 0) as observed_gpu_seconds,
        coalesce(gpu.busy_gpu_seconds, 0) as busy_gpu_seconds
    from engine
    inner join actual
        on engine.usage_date = actual.usage_date and engine.deployment_id = actual.deployment_id
    inner join gpu
        on engine.usage_date = gpu.usage_date and engine.deployment_id = gpu.deployment_id
),

priced as (
    -- price × GPU-seconds as the day's GPU cost × (GPU-seconds / billed GPU-seconds)
    select
        *,
        {%- for name in ['modelled_busy', 'kernel', 'reference', 'floor'] %}
        cast(gpu_cost_usd * ({{ name }}_gpu_seconds / held_gpu_seconds) as decimal(38, 12))
            as {{ name }}_usd,
        {%- endfor %}
        cast(gpu_cost_usd * ((gpu_count - gpus_needed) * observed_gpu_seconds / gpu_count
            / held_gpu_seconds) as decimal(38, 12)) as surplus_gpus_usd,
        cast(actual_cost_usd - gpu_cost_usd as decimal(38, 12)) as non_gpu_usd,
        cast(gpu_cost_usd - actual_usage_cost_usd as decimal(38, 12)) as idle_total_usd
    from joined
),

final as (
    select
        usage_date,
        deployment_id,
        llm_id,
        cast(requests as bigint) as requests,
        input_tokens,
        output_tokens,
        split_method,
        actual_cost_usd,
        actual_usd_per_1m_input_tokens,
        actual_usd_per_1m_output_tokens,
        actual_usage_cost_usd,
        actual_usage_usd_per_1m_input_tokens,
        actual_usage_usd_per_1m_output_tokens,
        cast(modelled_busy_usd + unobserved_cost_usd as decimal(38, 12)) as modelled_cost_usd,
        {{ usd_per_1m('(modelled_busy_usd + unobserved_cost_usd) * modelled_prefill_share', 'input_tokens') }}
            as modelled_usd_per_1m_input_tokens,
        {{ usd_per_1m('(modelled_busy_usd + unobserved_cost_usd) * (1 - modelled_prefill_share)', 'output_tokens') }}
            as modelled_usd_per_1m_output_tokens,
        cast((modelled_busy_usd + unobserved_cost_usd) / nullif(actual_usage_cost_usd, 0) as double)
            as modelled_to_actual_ratio,
        floor_usd as floor_cost_usd,
        {{ usd_per_1m('floor_usd * floor_prefill_share', 'input_tokens') }}
            as floor_usd_per_1m_input_tokens,
        {{ usd_per_1m('floor_usd * (1 - floor_prefill_share)', 'output_tokens') }}
            as floor_usd_per_1m_output_tokens,
        cast(floor_usd / nullif(actual_cost_usd, 0) as double) as efficiency,
        cast(kernel_usd - reference_usd as decimal(38, 12)) as gap_kernel_efficiency_usd,
        cast(modelled_busy_usd - kernel_usd as decimal(38, 12)) as gap_batching_usd,
        cast(actual_usage_cost_usd - unobserved_cost_usd - modelled_busy_usd as decimal(38, 12))
            as gap_residual_usd,
        cast(reference_usd - floor_usd + surplus_gpus_usd as decimal(38, 12))
            as gap_over_provisioning_usd,
        cast(reference_usd - floor_usd as decimal(38, 12)) as gap_over_provisioning_tp_usd,
        cast(idle_total_usd - surplus_gpus_usd as decimal(38, 12)) as gap_idle_usd,
        unobserved_cost_usd as gap_unobserved_usd,
        non_gpu_usd as gap_non_gpu_usd,
        cast(gpu_cost_usd * 3600 / held_gpu_seconds as decimal(38, 12)) as usd_per_gpu_hour,
        cast(gpu_count as integer) as gpu_count,
        cast(tensor_parallel as integer) as tensor_parallel,
        cast(tensor_parallel_min as integer) as tensor_parallel_min,
        cast(gpus_needed as integer) as gpus_needed,
        round(held_gpu_seconds, 3) as held_gpu_seconds,
        round(busy_gpu_seconds, 3) as busy_gpu_seconds,
        round(modelled_busy_gpu_seconds, 3) as modelled_busy_gpu_seconds,
        round(kernel_gpu_seconds, 3) as best_batch_gpu_seconds,
        round(floor_gpu_seconds, 3) as floor_gpu_seconds,
        cast(batch_observed as double) as batch_observed,
        cast(batch_max as double) as batch_max,
        round(observed_gpu_seconds / held_gpu_seconds, 9) as telemetry_coverage,
        cast(observed_request_share as double) as observed_request_share,
        efficiency_source,
        efficiency_source = 'calibrated' as is_calibrated,
        calibration_scope,
        cast(calibration_days as integer) as calibration_days,
        cast(calibration_requests as bigint) as calibration_requests,
        cast(mbu_used as double) as mbu_used,
        cast(mfu_used as double) as mfu_used,
        regime
    from priced
)

select * from final
