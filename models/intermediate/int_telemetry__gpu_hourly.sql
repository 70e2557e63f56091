{{
    config(
        materialized='incremental',
        incremental_strategy='replace_window',
        tags=['daily'],
        meta={'window_column': 'hour_start'}
    )
}}

{#- Per GPU (or MIG slice) per UTC hour, from the minute rollup. Averages are sample-weighted
    means of the minute means; energy and busy seconds are sums. busy_seconds rule: the mean
    busy_ratio (GR_ENGINE_ACTIVE, else GPU_UTIL / 100) of each minute × its observed seconds,
    so an hour with a 10-minute gap counts only what was observed. Rounded like the minute
    rollup so that re-runs are bit-identical. -#}

with minutes as (
    select * from {{ ref('int_telemetry__gpu_minute') }}
    where {{ in_window('minute_start') }}
),

final as (
    select
        date_trunc('hour', minute_start) as hour_start,
        host,
        gpu_index,
        gpu_uuid,
        gpu_instance_id,
        max(gpu_type) as gpu_type,
        max(gpu_instance_profile) as gpu_instance_profile,
        sum(samples) as samples,
        max(interval_s) as interval_s,
        sum(observed_seconds) as observed_seconds,
        sum(observed_seconds) / 3600.0 as sample_coverage,
        round(sum(avg_gpu_util_pct * samples)
        / nullif(sum(samples) filter (where avg_gpu_util_pct is not null), 0), 6)
            as avg_gpu_util_pct,
        max(max_gpu_util_pct) as max_gpu_util_pct,
        round(sum(avg_sm_active * samples)
        / nullif(sum(samples) filter (where avg_sm_active is not null), 0), 9) as avg_sm_active,
        round(sum(avg_tensor_active * samples)
        / nullif(sum(samples) filter (where avg_tensor_active is not null), 0), 9)
            as avg_tensor_active,
        round(sum(avg_dram_active * samples)
        / nullif(sum(samples) filter (where avg_dram_active is not null), 0), 9)
            as avg_dram_active,
        max(max_fb_used_mib) as max_fb_used_mib,
        round(sum(energy_kwh), 12) as energy_kwh,
        sum(energy_observed_seconds) as energy_observed_seconds,
        round(sum(busy_seconds), 6) as busy_seconds,
        sum(busy_observed_seconds) as busy_observed_seconds
    from minutes
    group by all
)

select * from final
