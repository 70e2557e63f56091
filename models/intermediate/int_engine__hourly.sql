{{
    config(
        materialized='incremental',
        incremental_strategy='replace_window',
        tags=['daily'],
        meta={'window_column': 'hour_start'}
    )
}}

{#- Per vLLM server (host, instance, model_name, engine) per UTC hour: token and request
    counts from counter deltas, mean latencies from histogram _sum/_count deltas, gauge means.
    A counter decrease is a restart: the delta is the new value. Unlike GPU energy, a delta
    across a scrape gap is kept (the counter really counted those tokens) and lands in the
    hour of the scrape that shows it. -#}

-- A series' samples in time order, narrow (time, series id, value): its labels are joined
-- after the window. Sorting 15 M samples with seven label strings each (the series' identity
-- as partition key) took two to three times as long at 1,024 GPUs (docs/performance.md).
with samples as (
    select ts, series_id, value
    from {{ ref('stg_telemetry__engine_metric_samples') }}
    where ts >= {{ window_start() }} - interval 1 hour and ts < {{ window_end() }}
        and (le is null)
),

deltas as (
    select
        *,
        lag(value) over (partition by series_id order by ts) as previous_value
    from samples
),

windowed as (
    select
        s.host,
        s.instance,
        s.namespace,
        s.pod,
        s.model_name,
        s.engine,
        s.metric,
        d.ts,
        d.value,
        d.previous_value,
        case
            when d.previous_value is null then null
            when d.value < d.previous_value then d.value
            else d.value - d.previous_value
        end as delta
    from deltas as d
    inner join {{ ref('stg_telemetry__engine_series') }} as s on d.series_id = s.series_id
    where {{ in_window('d.ts') }}
),

final as (
    select
        date_trunc('hour', ts) as hour_start,
        host,
        instance,
        model_name,
        engine,
        max(namespace) as namespace,
        max(pod) as pod,
        count(distinct ts) as scrapes,
        cast(sum(delta) filter (where metric = 'prompt_tokens_total') as bigint) as prompt_tokens,
        cast(sum(delta) filter (where metric = 'generation_tokens_total') as bigint)
            as generation_tokens,
        cast(sum(delta) filter (where metric = 'prefix_cache_queries_total') as bigint)
            as prefix_cache_queried_tokens,
        cast(sum(delta) filter (where metric = 'prefix_cache_hits_total') as bigint)
            as prefix_cache_hit_tokens,
        cast(sum(delta) filter (where metric = 'e2e_request_latency_seconds_count') as bigint)
            as requests_finished,
        {#- each mean from the first histogram the server exports: vLLM V1 renamed
            time_per_output_token_seconds to inter_token_latency_seconds (both exported for a
            while, then the old name hidden), so a current server has only the new one -#}
        {%- for name, metrics in [
            ('ttft', ['time_to_first_token_seconds']),
            ('queue', ['request_queue_time_seconds']),
            ('tpot', ['inter_token_latency_seconds', 'time_per_output_token_seconds']),
            ('prefill', ['request_prefill_time_seconds']),
            ('decode', ['request_decode_time_seconds']),
            ('e2e', ['e2e_request_latency_seconds']),
        ] %}
        coalesce(
            {%- for metric in metrics %}
            round(sum(delta) filter (where metric = '{{ metric }}_sum')
            / nullif(sum(delta) filter (where metric = '{{ metric }}_count'), 0), 9)
            {{- "," if not loop.last }}
            {%- endfor %}
        ) as mean_{{ name }}_s,
        {%- endfor %}
        round(avg(value) filter (where metric = 'kv_cache_usage_perc'), 9)
            as avg_kv_cache_usage_ratio,
        max(value) filter (where metric = 'kv_cache_usage_perc') as max_kv_cache_usage_ratio,
        round(avg(value) filter (where metric = 'num_requests_running'), 9)
            as avg_requests_running,
        round(avg(value) filter (where metric = 'num_requests_waiting'), 9)
            as avg_requests_waiting,
        count(*) filter (
            where metric = 'prompt_tokens_total' and value < previous_value
        ) as counter_resets,
        -- saturation (fct_saturation_hourly): NULL when the server has no such counter
        cast(sum(delta) filter (where metric = 'num_preemptions_total') as bigint) as preemptions
    from windowed
    group by all
)

select * from final
