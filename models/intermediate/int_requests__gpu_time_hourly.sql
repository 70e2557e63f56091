{{
    config(
        materialized='incremental',
        incremental_strategy='replace_window',
        tags=['daily'],
        meta={'window_column': 'hour_start'}
    )
}}

{#- The one input/output split of GPU time (COSTMODEL.md §3), per deployment per UTC hour.
    A sweep over each replica's events (int_requests__phases: prefill start, first token,
    finish) gives, between two events, n_p requests in prefill and n_d in decode on that
    replica; the stretch's wall time is shared equally among them, 1/concurrency each, so
    prefill gets n_p / (n_p + n_d) of it and decode the rest. Replicas are swept apart:
    two replicas on one host are two GPUs sets, each busy on its own. Queue wait is on no
    GPU and is charged to nothing; prefill is its compute only (see int_requests__phases
    for where that time comes from). Summing raw TTFT and E2E - TTFT instead would count
    decode time once per sequence in the batch and make output tokens look tens of times
    dearer.
    Known bias: prefill and decode of a shared step are split by request count, not by FLOP
    time vs byte time (chunked prefill); a log stream that holds k replicas (no pod or
    server in the log) is swept as one, its concurrency taken as 1 + (n - 1) / k.
    Integer microseconds, so a re-run is bit-identical. Each UTC day of arrivals is swept
    alone (a partition's rows never depend on the run's other days): requests in flight at
    midnight lose their tail. -#}

with requests as (
    select * from {{ ref('int_requests__phases') }}
    where {{ in_window('arrival_ts') }}
),

events as (
    select deployment_id, replica_key, replicas_sharing, arrival_day,
        prefill_start_us as ts_us, 1 as d_prefill, 0 as d_decode
    from requests
    union all
    select
        deployment_id, replica_key, replicas_sharing, arrival_day,
        coalesce(first_token_us, finish_us), -1, 1
    from requests
    union all
    select deployment_id, replica_key, replicas_sharing, arrival_day, finish_us, 0, -1
    from requests
),

steps as (
    select
        deployment_id, replica_key, arrival_day, ts_us,
        any_value(replicas_sharing) as replicas_sharing,
        sum(d_prefill) as d_prefill, sum(d_decode) as d_decode
    from events
    group by deployment_id, replica_key, arrival_day, ts_us
),

segments as (
    select
        deployment_id,
        arrival_day,
        ts_us,
        replicas_sharing,
        sum(d_prefill) over w as n_prefill,
        sum(d_decode) over w as n_decode,
        lead(ts_us) over (partition by deployment_id, replica_key, arrival_day order by ts_us)
            - ts_us as span_us
    from steps
    window w as (
        partition by deployment_id, replica_key, arrival_day order by ts_us
        rows unbounded preceding
    )
),

final as (
    select
        date_trunc('hour', make_timestamptz(ts_us)) as hour_start,
        deployment_id,
        sum(span_us * n_prefill // (n_prefill + n_decode)) / 1e6 as prefill_replica_seconds,
        sum(span_us - span_us * n_prefill // (n_prefill + n_decode)) / 1e6
            as decode_replica_seconds,
        sum(span_us) / 1e6 as busy_replica_seconds,
        -- requests in flight per replica × time; a shared stream's n spread over its replicas
        round(sum(span_us * (1 + (n_prefill + n_decode - 1) / replicas_sharing)) / 1e6, 6)
            as in_flight_request_seconds,
        max(n_prefill + n_decode) as max_in_flight
    from segments
    where n_prefill + n_decode > 0 and span_us > 0
        -- each UTC day is swept on its own, so a day's rows never depend on which other days
        -- share the run; the tail of requests still in flight at midnight is dropped
        and cast(make_timestamptz(ts_us) as date) = arrival_day
    group by all
)

select * from final
