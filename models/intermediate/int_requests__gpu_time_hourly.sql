{{
    config(
        materialized='incremental',
        incremental_strategy='replace_window',
        tags=['daily'],
        meta={'window_column': 'hour_start'}
    )
}}

{#- The one input/output split of GPU time (COSTMODEL.md §3), per deployment per UTC hour.
    The sweep of each replica's events (int_requests__replica_sweep: prefill start, first
    token, finish) gives, for each stretch of time between two of its events, n_p requests
    in prefill and n_d in decode on that replica; the stretch's wall time is shared equally
    among them, 1/concurrency each, so prefill gets n_p / (n_p + n_d) of it and decode the
    rest. Replicas are swept apart: two replicas on one host are two GPU sets, each busy on
    its own. Queue wait is on no GPU and is charged to nothing; prefill is its compute only
    (see int_requests__phases for where that time comes from). Summing raw TTFT and E2E -
    TTFT instead would count decode time once per sequence in the batch and make output
    tokens look tens of times dearer.
    Known bias: prefill and decode of a shared step are split by request count, not by FLOP
    time vs byte time (chunked prefill); a log stream that holds k replicas (no pod or
    server in the log) is swept as one, its concurrency taken as 1 + (n - 1) / k.
    Integer microseconds, so a re-run is bit-identical; the sums are DOUBLE (exact: integers
    far below 2^53) rather than HUGEINT. Each UTC day of arrivals is swept alone (a
    partition's rows never depend on the run's other days): requests in flight at midnight
    lose their tail. -#}

{%- set hour_us = 3600000000 %}

with sweep as (
    select * from {{ ref('int_requests__replica_sweep') }}
    where {{ in_window('arrival_ts') }}
),

-- each busy stretch of a replica-day's time starts at one event (the last at its instant);
-- the sweep leaves none after midnight: each UTC day is swept on its own, so a day's rows
-- never depend on which other days share the run (the tail of requests in flight is dropped)
stretches as (
    {%- for event in ['prefill_start', 'first_token', 'finish'] %}
    select
        deployment_id,
        replicas_sharing,
        {{ int_div('coalesce(first_token_us, finish_us)' if event == 'first_token'
            else event ~ '_us', hour_us) }} as hour_index,
        {{ event }}_stretch_us as span_us,
        {{ event }}_n_prefill as n_prefill,
        {{ event }}_n_decode as n_decode
    from sweep
    where {{ event }}_stretch_us > 0
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

shares as (
    select
        hour_index,
        deployment_id,
        span_us,
        {{ int_div('span_us * n_prefill', 'n_prefill + n_decode') }} as prefill_us,
        n_prefill + n_decode as n_in_flight,
        replicas_sharing
    from stretches
),

final as (
    select
        {{ timestamp_from_us('hour_index * ' ~ hour_us) }} as hour_start,
        deployment_id,
        sum(cast(prefill_us as double)) / 1e6 as prefill_replica_seconds,
        sum(cast(span_us - prefill_us as double)) / 1e6 as decode_replica_seconds,
        sum(cast(span_us as double)) / 1e6 as busy_replica_seconds,
        -- requests in flight per replica × time; a shared stream's n spread over its replicas
        round(sum(span_us * (1 + (n_in_flight - 1) / replicas_sharing)) / 1e6, 6)
            as in_flight_request_seconds,
        cast(max(n_in_flight) as bigint) as max_in_flight
    from shares
    group by hour_index, deployment_id
)

select * from final
