{{
    config(
        materialized='incremental',
        incremental_strategy='replace_window',
        tags=['daily'],
        meta={'window_column': 'hour_start'}
    )
}}

{#- Saturation of each deployment per UTC hour, from its vLLM servers' own metrics: is its
    KV cache full, do requests wait, does the engine preempt? The gauges are pooled over
    every scrape of every vLLM server (replica) of the deployment in the hour: avg is the
    mean, p95 DuckDB's quantile_cont(value, 0.95) (linear interpolation between the two
    closest ranks, numpy's default), max the largest scrape. Preemptions are the hour's
    reset-aware deltas of vllm:num_preemptions_total summed over the servers
    (int_engine__hourly, the one place counters become deltas). A server's model_name maps
    to its deployment through the registry's request model names, as the engine token
    cross-check does. The right-size guard (pipelines/recommend/saturation.py) and the
    weekly report read this table. -#}

with claims as (
    select selector_value as model_name, deployment_id, valid_from, valid_to
    from {{ ref('int_registry__resource_claims') }}
    where selector_kind = 'request_model_name'
),

gauges as (
    select
        c.deployment_id,
        date_trunc('hour', s.ts) as hour_start,
        s.host,
        s.instance,
        s.metric,
        s.value
    from {{ ref('stg_telemetry__engine_metric_samples') }} as s
    inner join claims as c
        on s.model_name = c.model_name
        and cast(s.ts as date) >= c.valid_from
        and (c.valid_to is null or cast(s.ts as date) < c.valid_to)
    where s.metric in ('kv_cache_usage_perc', 'num_requests_waiting')
        and {{ in_window('s.ts') }}
),

gauge_hours as (
    select
        deployment_id,
        hour_start,
        count(distinct (host, instance)) as vllm_servers,
        count(*) filter (where metric = 'kv_cache_usage_perc') as kv_cache_samples,
        round(avg(value) filter (where metric = 'kv_cache_usage_perc'), 9)
            as kv_cache_usage_avg_frac,
        round({{ quantile_cont('value', 0.95) }} filter (where metric = 'kv_cache_usage_perc'), 9)
            as kv_cache_usage_p95_frac,
        max(value) filter (where metric = 'kv_cache_usage_perc') as kv_cache_usage_max_frac,
        count(*) filter (where metric = 'num_requests_waiting') as waiting_samples,
        round(avg(value) filter (where metric = 'num_requests_waiting'), 9)
            as waiting_avg_requests,
        round({{ quantile_cont('value', 0.95) }} filter (where metric = 'num_requests_waiting'), 9)
            as waiting_p95_requests,
        max(value) filter (where metric = 'num_requests_waiting') as waiting_max_requests
    from gauges
    group by deployment_id, hour_start
),

preemption_hours as (
    select c.deployment_id, e.hour_start, sum(e.preemptions) as preemptions
    from {{ ref('int_engine__hourly') }} as e
    inner join claims as c
        on e.model_name = c.model_name
        and cast(e.hour_start as date) >= c.valid_from
        and (c.valid_to is null or cast(e.hour_start as date) < c.valid_to)
    where {{ in_window('e.hour_start') }}
    group by c.deployment_id, e.hour_start
),

final as (
    select
        g.deployment_id,
        g.hour_start,
        g.vllm_servers,
        g.kv_cache_samples,
        g.kv_cache_usage_avg_frac,
        g.kv_cache_usage_p95_frac,
        g.kv_cache_usage_max_frac,
        g.waiting_samples,
        g.waiting_avg_requests,
        g.waiting_p95_requests,
        g.waiting_max_requests,
        cast(p.preemptions as bigint) as preemptions
    from gauge_hours as g
    left join preemption_hours as p
        on g.deployment_id = p.deployment_id and g.hour_start = p.hour_start
)

select * from final
