{{
    config(
        materialized='incremental',
        incremental_strategy='replace_window',
        tags=['daily'],
        meta={'window_column': 'usage_date'}
    )
}}

{#- Billing-like lines for GPUs without a cloud bill: per configured host and UTC day of the
    partition window (within in_service_from / retired_on), one line per cost component, with
    the host as resource_id and an instance type that stg_billing__instance_types maps to its
    GPUs, so int_billing__line_items hands them to allocation like a cloud instance's lines.

      OnPremAmortisation     the entry's amortisation_usd_per_day (carries the GPU time)
      OnPremEnergy           Σ DCGM energy counter deltas of GPUs 0..gpu_count-1 (reset-aware,
                             none across gaps: int_telemetry__gpu_minute) × usd_per_kwh × pue
      OnPremEnergyUnmetered  the GPU-seconds of the day no counter delta covers (no samples,
                             samples without the energy field, the first sample of a series or
                             after a gap: energy_observed_seconds) × fallback power ×
                             usd_per_kwh × pue: missing telemetry is priced, never zero
      OnPremOverhead         the entry's overhead_usd_per_day (when configured)

    A glob entry prices the hosts the registry or the window's DCGM telemetry name; a host
    listed by name wins over globs, and among globs the first listed. A whole GPU's energy is
    read once even under MIG (the device counter repeats on each slice's row). kWh are
    rounded to 9 decimals, money cast to DECIMAL(38,12). -#}

with hosts as (
    select * from {{ ref('stg_onprem__hosts') }}
),

days as (
    select {{ unnest_series(
        'cast(' ~ window_start() ~ ' as date)', 'cast(' ~ window_end() ~ ' as date) - 1',
        'interval 1 day', cast_to='date'
    ) }} as usage_date
),

telemetry as (
    select
        cast(hour_start as date) as usage_date,
        host,
        gpu_index,
        hour_start,
        max(energy_kwh) as energy_kwh,
        least(max(energy_observed_seconds), 3600) as energy_observed_seconds
    from {{ ref('int_telemetry__gpu_hourly') }}
    where {{ in_window('hour_start') }}
    group by all
),

known_hosts as (
    select host from {{ ref('stg_registry__selectors') }} where host is not null
    union
    select host from telemetry
),

candidates as (
    select known_hosts.host as priced_host, hosts.*
    from known_hosts
    inner join hosts on hosts.host_pattern is not null
        and {{ glob_match('known_hosts.host', 'hosts.host_pattern') }}
    union all
    select hosts.host as priced_host, hosts.*
    from hosts
    where hosts.host is not null
),

resolved as (
    -- a ranked subquery, not QUALIFY: Spark SQL has none
    select {{ star_except('', ['entry_rank']) }}
    from (
        select
            *,
            row_number() over (
                partition by priced_host order by host is null, entry_index
            ) as entry_rank
        from candidates
    )
    where entry_rank = 1
),

host_days as (
    select resolved.*, days.usage_date
    from resolved
    cross join days
    where (resolved.in_service_from is null or days.usage_date >= resolved.in_service_from)
        and (resolved.retired_on is null or days.usage_date < resolved.retired_on)
),

metered as (
    select
        host_days.priced_host,
        host_days.usage_date,
        round(sum(telemetry.energy_kwh), 9) as metered_kwh,
        coalesce(
            sum(telemetry.energy_observed_seconds) filter (where telemetry.energy_kwh is not null),
            0
        ) as metered_gpu_seconds
    from host_days
    left join telemetry
        on host_days.priced_host = telemetry.host
        and host_days.usage_date = telemetry.usage_date
        and telemetry.gpu_index < host_days.gpu_count
    group by all
),

priced as (
    select
        host_days.*,
        metered.metered_kwh,
        metered.metered_gpu_seconds,
        host_days.gpu_count * 86400 - metered.metered_gpu_seconds as unmetered_gpu_seconds,
        round(
            (host_days.gpu_count * 86400 - metered.metered_gpu_seconds)
            * host_days.fallback_power_w_per_gpu / 3600000.0,
            9
        ) as unmetered_kwh
    from host_days
    inner join metered
        on host_days.priced_host = metered.priced_host
        and host_days.usage_date = metered.usage_date
),

components as (
    select
        *,
        1 as component_line,
        'OnPremAmortisation' as line_item_type,
        amortisation_usd_per_day as cost,
        cast(null as decimal(38, 15)) as consumed_quantity,
        cast(null as {{ t_string() }}) as pricing_unit
    from priced
    union all
    select
        *,
        2,
        'OnPremEnergy',
        cast(cast(metered_kwh as decimal(38, 9)) * usd_per_kwh * pue as decimal(38, 12)),
        cast(metered_kwh as decimal(38, 15)),
        'kWh'
    from priced
    where metered_gpu_seconds > 0
    union all
    select
        *,
        3,
        'OnPremEnergyUnmetered',
        cast(cast(unmetered_kwh as decimal(38, 9)) * usd_per_kwh * pue as decimal(38, 12)),
        cast(unmetered_kwh as decimal(38, 15)),
        'kWh'
    from priced
    where unmetered_gpu_seconds > 0
    union all
    select
        *,
        4,
        'OnPremOverhead',
        overhead_usd_per_day,
        cast(null as decimal(38, 15)),
        cast(null as {{ t_string() }})
    from priced
    where overhead_usd_per_day > 0
),

final as (
    select
        usage_date,
        'onprem:' || billing_account_id || ':' || {{ date_iso('usage_date') }} as delivery_id,
        'onprem' as billing_source,
        'onprem' as source_format,
        cast(null as {{ t_string() }}) as focus_version,
        billing_account_id,
        cast(null as {{ t_string() }}) as sub_account_id,
        'On-premises' as provider_name,
        cast(date_trunc('month', usage_date) as date) as billing_period,
        billing_currency,
        cast(usage_date as {{ t_timestamptz() }}) as charge_period_start,
        cast(usage_date + 1 as {{ t_timestamptz() }}) as charge_period_end,
        'Usage' as charge_category,
        'Regular' as charge_class,
        'Usage-Based' as charge_frequency,
        line_item_type,
        'On-premises GPU hosts' as service_name,
        line_item_type as sku_or_usage_type,
        instance_type,
        priced_host as resource_id,
        cast(null as {{ t_string() }}) as region_id,
        cast(null as {{ t_string() }}) as commitment_discount_id,
        cast(null as {{ t_string() }}) as commitment_discount_type,
        cast(null as {{ t_string() }}) as commitment_discount_category,
        cast(null as {{ t_timestamptz() }}) as commitment_discount_end,
        cost as billed_cost,
        cost as effective_cost,
        cost as list_cost,
        consumed_quantity,
        pricing_unit,
        cast({{ json_object_of([
            "'onprem_entry', coalesce(host, host_pattern)",
            "'usd_per_kwh', cast(usd_per_kwh as " ~ t_string() ~ ")",
            "'pue', cast(pue as " ~ t_string() ~ ")",
            "'metered_gpu_seconds', metered_gpu_seconds",
            "'unmetered_gpu_seconds', unmetered_gpu_seconds",
        ]) }} as {{ t_json() }}) as tags_json,
        cast(null as {{ t_json() }}) as extra_columns_json,
        false as tz_assumed,
        'onprem:' || priced_host || ':' || {{ date_iso('usage_date') }} as source_file,
        cast(component_line as bigint) as source_line,
        cast(24 as double) as charge_hours
    from components
)

select * from final
