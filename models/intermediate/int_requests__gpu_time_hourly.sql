{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        tags=['daily'],
        pre_hook="{% if is_incremental() %}delete from {{ this }} where {{ in_window('hour_start') }}{% endif %}"
    )
}}

{#- GPU time in prefill and in decode per deployment per UTC hour, each request's phase
    weighted by 1/concurrency at that moment (COSTMODEL.md §3): a sweep over arrival,
    first-token and finish events per deployment and host gives, between two events, n_p
    requests in prefill and n_d in decode; that stretch's wall time is shared n_p : n_d.
    Summing raw TTFT and E2E - TTFT instead would count decode time once per sequence in
    the batch and make output tokens look tens of times dearer. Integer microseconds, so a
    re-run is bit-identical. Requests without a first-token time are left out. Each UTC day
    of arrivals is swept alone (a partition's rows never depend on the run's other days);
    requests in flight at midnight lose their tail. -#}

with requests as (
    select
        deployment_id,
        coalesce(host, '') as host,
        cast(arrival_ts as date) as arrival_day,
        epoch_us(arrival_ts) as arrival_us,
        epoch_us(arrival_ts) + cast(round(ttft_ms * 1000) as bigint) as first_token_us,
        epoch_us(arrival_ts) + cast(round(e2e_ms * 1000) as bigint) as finish_us
    from {{ ref('int_requests__mapped') }}
    where {{ in_window('arrival_ts') }}
        and deployment_id is not null
        and ttft_ms is not null and e2e_ms >= ttft_ms
),

events as (
    select deployment_id, host, arrival_day, arrival_us as ts_us, 1 as d_prefill, 0 as d_decode
    from requests
    union all
    select deployment_id, host, arrival_day, first_token_us, -1, 1 from requests
    union all
    select deployment_id, host, arrival_day, finish_us, 0, -1 from requests
),

steps as (
    select
        deployment_id, host, arrival_day, ts_us,
        sum(d_prefill) as d_prefill, sum(d_decode) as d_decode
    from events
    group by all
),

segments as (
    select
        deployment_id,
        arrival_day,
        ts_us,
        sum(d_prefill) over w as n_prefill,
        sum(d_decode) over w as n_decode,
        lead(ts_us) over (partition by deployment_id, host, arrival_day order by ts_us) - ts_us
            as span_us
    from steps
    window w as (
        partition by deployment_id, host, arrival_day order by ts_us rows unbounded preceding
    )
),

final as (
    select
        date_trunc('hour', make_timestamptz(ts_us)) as hour_start,
        deployment_id,
        sum(span_us * n_prefill // (n_prefill + n_decode)) / 1e6 as prefill_gpu_seconds,
        sum(span_us * n_decode // (n_prefill + n_decode)) / 1e6 as decode_gpu_seconds,
        sum(span_us) / 1e6 as busy_seconds,
        max(n_prefill + n_decode) as max_in_flight
    from segments
    where n_prefill + n_decode > 0 and span_us > 0
        -- each UTC day is swept on its own, so a day's rows never depend on which other days
        -- share the run; the tail of requests still in flight at midnight is dropped
        and cast(make_timestamptz(ts_us) as date) = arrival_day
    group by all
)

select * from final
