{{
    config(
        materialized='incremental',
        incremental_strategy='replace_window',
        tags=['daily'],
        meta={'window_column': 'hour_start'}
    )
}}

{#- Requests, tokens and latency per deployment per UTC hour of arrival; unmapped requests
    are one row per hour with deployment_id NULL, so the rollup conserves every request.
    Rebuilds exactly the partition window.

    Clock skew (RELIABILITY case 30): request logs and DCGM scrapes run on different clocks.
    A request counts as outside telemetry when no GPU host of its deployment reported in the
    minutes within the configured tolerance of its arrival; it is flagged, never dropped.
    Deployments that declare no host have no telemetry to compare with: NULL, not 0. -#}

with requests as (
    select * from {{ ref('int_requests__mapped') }}
    where {{ in_window('arrival_ts') }}
),

tolerance as (
    select cast(ceil({{ var('telemetry_skew_tolerance_s') }} / 60.0) as integer) as minutes
),

deployment_hosts as (
    select distinct deployment_id, host, valid_from, valid_to
    from {{ ref('int_registry__resource_claims') }}
    where selector_kind = 'host_gpu' and host is not null
),

reported_minutes as (
    select distinct h.deployment_id, t.minute_start
    from {{ ref('int_telemetry__gpu_minute') }} as t
    inner join deployment_hosts as h
        on t.host = h.host
        and t.minute_start >= cast(h.valid_from as {{ t_timestamptz() }})
        and (h.valid_to is null or t.minute_start < cast(h.valid_to as {{ t_timestamptz() }}))
    where t.minute_start >= {{ window_start() }} - interval 1 hour
        and t.minute_start < {{ window_end() }} + interval 1 hour
        and t.samples > 0
),

-- Every minute within the tolerance of a minute in which a host of the deployment reported.
telemetry_minutes as (
    select distinct
        r.deployment_id,
        r.minute_start + {{ minutes_interval('k.offset_min') }} as minute_start
    from reported_minutes as r
    cross join (
        select {{ unnest_range('-minutes', 'minutes + 1') }} as offset_min from tolerance
    ) as k
),

-- Requests per deployment and minute first: the telemetry check is per minute, and joining
-- minutes instead of requests keeps that join small whatever the day's traffic.
per_minute as (
    select
        date_trunc('minute', arrival_ts) as minute_start,
        deployment_id,
        count(*) as requests,
        count(*) filter (where is_error) as errors,
        sum(input_tokens) as input_tokens,
        sum(output_tokens) as output_tokens,
        sum(cached_tokens) as cached_tokens,
        count(*) filter (where usage_missing) as requests_missing_usage,
        count(*) filter (where host_mismatch) as requests_host_mismatch,
        -- Latencies are whole µs: summed as DECIMAL they are exact, so a re-run is identical
        -- (a DOUBLE sum depends on the order the threads add in).
        sum(cast(ttft_ms as decimal(18, 3))) as ttft_ms,
        sum(cast(e2e_ms - ttft_ms as decimal(18, 3))) as decode_ms
    from requests
    group by all
),

located as (
    select
        m.*,
        case
            when m.deployment_id is null
                or m.deployment_id not in (select deployment_id from deployment_hosts)
                then null
            else tm.minute_start is null
        end as outside_telemetry
    from per_minute as m
    left join telemetry_minutes as tm
        on m.deployment_id = tm.deployment_id
        and m.minute_start = tm.minute_start
),

final as (
    select
        date_trunc('hour', minute_start) as hour_start,
        deployment_id,
        cast(sum(requests) as bigint) as requests,
        cast(sum(errors) as bigint) as errors,
        cast(sum(input_tokens) as bigint) as input_tokens,
        cast(sum(output_tokens) as bigint) as output_tokens,
        cast(sum(cached_tokens) as bigint) as cached_tokens,
        cast(sum(requests_missing_usage) as bigint) as requests_missing_usage,
        cast(sum(requests_host_mismatch) as bigint) as requests_host_mismatch,
        -- NULL (not 0) for deployments without a declared host: nothing to compare with.
        if(
            count(outside_telemetry) = 0,
            null,
            cast(coalesce(sum(requests) filter (where outside_telemetry), 0) as bigint)
        ) as requests_outside_telemetry,
        cast(sum(ttft_ms) / 1000 as decimal(18, 6)) as prefill_seconds,
        cast(sum(decode_ms) / 1000 as decimal(18, 6)) as decode_seconds
    from located
    group by all
)

select * from final
