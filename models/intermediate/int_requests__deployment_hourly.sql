{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        tags=['daily'],
        pre_hook="{% if is_incremental() %}delete from {{ this }} where {{ in_window('hour_start') }}{% endif %}"
    )
}}

{#- Requests, tokens and latency per deployment per UTC hour of arrival; unmapped requests
    are one row per hour with deployment_id NULL, so the rollup conserves every request.
    Rebuilds exactly the partition window. -#}

with requests as (
    select * from {{ ref('int_requests__mapped') }}
    where {{ in_window('arrival_ts') }}
),

final as (
    select
        date_trunc('hour', arrival_ts) as hour_start,
        deployment_id,
        count(*) as requests,
        count(*) filter (where is_error) as errors,
        cast(sum(input_tokens) as bigint) as input_tokens,
        cast(sum(output_tokens) as bigint) as output_tokens,
        cast(sum(cached_tokens) as bigint) as cached_tokens,
        count(*) filter (where usage_missing) as requests_missing_usage,
        count(*) filter (where host_mismatch) as requests_host_mismatch,
        -- Latencies are whole µs: summed as DECIMAL they are exact, so a re-run is identical
        -- (a DOUBLE sum depends on the order the threads add in).
        cast(sum(cast(ttft_ms as decimal(18, 3))) / 1000 as decimal(18, 6)) as prefill_seconds,
        cast(sum(cast(e2e_ms - ttft_ms as decimal(18, 3))) / 1000 as decimal(18, 6))
            as decode_seconds
    from requests
    group by all
)

select * from final
