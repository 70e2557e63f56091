{{
    config(
        materialized='incremental',
        incremental_strategy='replace_window',
        tags=['daily'],
        meta={'window_column': 'minute_start'}
    )
}}

{#- Per GPU (or MIG slice) per minute. The energy counter becomes reset-aware deltas: a
    decrease is a reset and the delta is the new value (Prometheus rate semantics, RELIABILITY
    case 21); a delta across a gap longer than twice the GPU's scrape interval is dropped, not
    interpolated (case 22). The hour before the window is read only to find each first
    sample's predecessor. -#}

with samples as (
    select *
    from {{ ref('stg_telemetry__dcgm_samples') }}
    where ts >= {{ window_start() }} - interval 1 hour and ts < {{ window_end() }}
),

with_previous as (
    select
        *,
        {{ epoch_seconds('ts') }} - {{ epoch_seconds('lag(ts) over gpu') }} as gap_s,
        lag(energy_mj) over gpu as previous_energy_mj
    from samples
    window gpu as (partition by host, gpu_index, gpu_uuid, gpu_instance_id order by ts)
),

with_interval as (
    select
        *,
        -- the dcgm-exporter default (30 s) when a GPU has a single sample
        coalesce(
            median(gap_s) over (partition by host, gpu_index, gpu_uuid, gpu_instance_id), 30
        ) as interval_s
    from with_previous
),

deltas as (
    select
        *,
        case
            when previous_energy_mj is null or energy_mj is null then null
            when gap_s > 2 * interval_s then null
            when energy_mj < previous_energy_mj then energy_mj
            else energy_mj - previous_energy_mj
        end as energy_delta_mj
    from with_interval
    where {{ in_window('ts') }}
),

final as (
    select
        date_trunc('minute', ts) as minute_start,
        host,
        gpu_index,
        gpu_uuid,
        gpu_instance_id,
        max(gpu_type) as gpu_type,
        max(gpu_instance_profile) as gpu_instance_profile,
        count(*) as samples,
        max(interval_s) as interval_s,
        least(count(*) * max(interval_s), 60.0) as observed_seconds,
        least(count(*) * max(interval_s), 60.0) / 60.0 as sample_coverage,
        round(avg(gpu_util_pct), 6) as avg_gpu_util_pct,
        max(gpu_util_pct) as max_gpu_util_pct,
        round(avg(sm_active), 9) as avg_sm_active,
        round(avg(tensor_active), 9) as avg_tensor_active,
        round(avg(dram_active), 9) as avg_dram_active,
        max(fb_used_mib) as max_fb_used_mib,
        round(avg(power_w), 6) as avg_power_w,
        round(sum(energy_delta_mj) / 3.6e9, 12) as energy_kwh,
        -- the seconds those deltas cover: a sample without one (the first of a series, the
        -- first after a gap) measured no energy (on-prem pricing charges them at fallback power)
        least(count(energy_delta_mj) * max(interval_s), 60.0) as energy_observed_seconds,
        count(busy_ratio) as busy_samples,
        -- Only samples with a utilisation signal measure busy time: a minute whose samples
        -- are partly without one (a profiling-metrics restart, MIG) measures fewer seconds.
        least(count(busy_ratio) * max(interval_s), 60.0) as busy_observed_seconds,
        round(avg(busy_ratio) * least(count(busy_ratio) * max(interval_s), 60.0), 6)
            as busy_seconds
    from deltas
    group by all
)

select * from final
