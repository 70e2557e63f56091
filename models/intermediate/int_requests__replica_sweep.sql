{{
    config(
        materialized='incremental',
        incremental_strategy='replace_window',
        tags=['daily'],
        meta={'window_column': 'arrival_ts'}
    )
}}

{#- The one concurrency sweep (docs/cost-split.md §1): each replica's events of a UTC day of
    arrivals, in time order, with the requests in prefill and in decode on it after each.
    Its two readers: the input/output split (int_requests__gpu_time_hourly: each stretch of
    time between two events shared 1/concurrency) and the recommendation engine (the mean
    number of requests on the GPUs over a request's decode and over its life).

    One sort per replica-day, integers only: a replica-day is an INTEGER id; an event is
    (µs since its midnight) × 4 + its kind, so at one instant prefill starts come before
    first tokens before finishes (no running count dips below zero) and a hash of the
    request breaks what ties remain (the rows are the same on every run). Two running sums
    (ROWS frames, no peers) and lead() share that sort:
      counts      n_prefill × 2^21 + n_decode after the event;
      event_sum   Σ ±t over the events so far (+ at a prefill start, - at a finish), so the
                  requests-on-the-GPUs × time from midnight to an event at t is
                  t × (n_prefill + n_decode) - event_sum, and a request's mean over [a, b)
                  is the difference at b and a over b - a.
    The sums are DOUBLE, not BIGINT (whose sum is HUGEINT, over twice as slow here), and
    exact: every partial sum is an integer below 2^53 while fewer than ~17,000 requests are
    on one replica at once (int_requests__gpu_time_hourly tests max_in_flight).
    A log stream that holds k replicas (no pod or server in the log) is swept as one; a
    request's own replica is taken to hold 1 + (n - 1) / k of the n it saw. Each UTC day is
    swept alone, as the split does, so a partition never depends on another day's rows:
    requests still in flight at midnight are not seen by the next day's. -#}

{%- set prefill_unit = 2097152 %}
{%- set day_us = 86400000000 %}

-- materialized: request_row must be the same row number wherever it is read
with requests as {{ cte_materialized() }} (
    select
        *,
        -- a join key inside this query only
        cast({{ row_key('deployment_id, request_source, request_id') }} as integer) as request_row
    from {{ ref('int_requests__phases') }}
    where {{ in_window('arrival_ts') }}
),

streams as (
    select *, {{ epoch_us('cast(arrival_day as ' ~ t_timestamptz() ~ ')') }} as midnight_us
    from ({{ replica_day_streams('requests') }}) as s
),

keyed as (
    select
        r.request_row,
        s.stream_id,
        {{ row_hash(['r.request_source', 'r.request_id']) }} as tiebreak,
        r.prefill_start_us - s.midnight_us as start_us,
        coalesce(r.first_token_us, r.finish_us) - s.midnight_us as first_us,
        r.finish_us - s.midnight_us as end_us
    from requests as r
    inner join streams as s using (deployment_id, replica_key, arrival_day)
),

events as (
    select stream_id, tiebreak, request_row, start_us * 4 as event_key from keyed
    union all
    select stream_id, tiebreak, request_row, first_us * 4 + 1 from keyed
    union all
    select stream_id, tiebreak, request_row, end_us * 4 + 2 from keyed
),

swept as (
    select
        request_row,
        event_key % 4 as kind,
        {{ int_div('event_key', 4) }} as event_us,
        cast(sum(cast(case event_key % 4
            when 0 then {{ prefill_unit }}
            when 1 then 1 - {{ prefill_unit }}
            else -1
        end as double)) over w as bigint) as counts,
        cast(sum(cast(case event_key % 4
            when 0 then {{ int_div('event_key', 4) }}
            when 2 then -{{ int_div('event_key', 4) }}
            else 0
        end as double)) over w as bigint) as event_sum,
        coalesce({{ int_div('lead(event_key) over w_order', 4) }} - {{ int_div('event_key', 4) }}, 0)
            as stretch_us
    from events
    -- lead() takes no frame on Spark (DuckDB ignores it): its own window
    window
        w as (
            partition by stream_id order by event_key, tiebreak
            rows between unbounded preceding and current row
        ),
        w_order as (partition by stream_id order by event_key, tiebreak)
),

states as (
    select
        request_row,
        kind,
        event_us * ({{ int_div('counts', prefill_unit) }} + counts % {{ prefill_unit }}) - event_sum
            as request_us_before,
        -- busy stretches of the day only: after midnight the next day's sweep has the replica
        case
            when counts > 0 and event_us >= 0 and event_us < {{ day_us }} then stretch_us
            else 0
        end as stretch_us,
        cast({{ int_div('counts', prefill_unit) }} as integer) as n_prefill,
        cast(counts % {{ prefill_unit }} as integer) as n_decode
    from swept
),

by_request as (
    select
        request_row,
        max(request_us_before) filter (where kind = 0) as area_start,
        max(request_us_before) filter (where kind = 1) as area_first,
        max(request_us_before) filter (where kind = 2) as area_end,
        -- the state an event leaves matters only where a stretch of time follows it
        {%- for event, kind in [('prefill_start', 0), ('first_token', 1), ('finish', 2)] %}
        max(stretch_us) filter (where kind = {{ kind }}) as {{ event }}_stretch_us,
        max(n_prefill) filter (where kind = {{ kind }} and stretch_us > 0)
            as {{ event }}_n_prefill,
        max(n_decode) filter (where kind = {{ kind }} and stretch_us > 0)
            as {{ event }}_n_decode
        {%- if not loop.last %},{% endif %}
        {%- endfor %}
    from states
    group by request_row
),

final as (
    select
        r.deployment_id,
        r.request_source,
        r.request_id,
        r.replica_key,
        r.replicas_sharing,
        r.arrival_ts,
        r.arrival_day,
        r.arrival_us,
        r.prefill_start_us,
        r.first_token_us,
        r.finish_us,
        r.input_tokens,
        r.output_tokens,
        r.cached_tokens,
        r.is_error,
        r.prefill_source,
        -- an empty interval (one token, or failed before the first) has no mean: NULL
        case when r.finish_us > coalesce(r.first_token_us, r.finish_us) then
            1 + ((b.area_end - b.area_first) / (r.finish_us - r.first_token_us) - 1)
            / r.replicas_sharing
        end as decode_concurrency,
        case when r.finish_us > r.prefill_start_us then
            1 + ((b.area_end - b.area_start) / (r.finish_us - r.prefill_start_us) - 1)
            / r.replicas_sharing
        end as life_concurrency,
        b.prefill_start_stretch_us,
        b.prefill_start_n_prefill,
        b.prefill_start_n_decode,
        b.first_token_stretch_us,
        b.first_token_n_prefill,
        b.first_token_n_decode,
        b.finish_stretch_us,
        b.finish_n_prefill,
        b.finish_n_decode
    from requests as r
    inner join by_request as b on r.request_row = b.request_row
)

select * from final
