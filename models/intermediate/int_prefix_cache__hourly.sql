{{ config(tags=['daily']) }}

{#- The prefix cache per deployment per UTC hour, from both sides: the request logs' prompt
    and cached tokens (int_requests__deployment_hourly: the hour a request arrived in) and
    vLLM's own prefix-cache counters (int_engine__hourly: Δ queries and hits, restarts
    handled there as for every counter, in the hour of the scrape that shows them). Engine
    series map to deployments by model name, as request logs do (the registry's
    request_model_names, while the deployment is valid); a series no deployment claims is
    left out here (the cross-source check reports it). A view: it only joins two small
    hourly tables, and the daily mart takes the days it needs. -#}

with claims as (
    select selector_value as model_name, deployment_id, valid_from, valid_to
    from {{ ref('int_registry__resource_claims') }}
    where selector_kind = 'request_model_name'
),

engine as (
    select
        c.deployment_id,
        e.hour_start,
        sum(e.prefix_cache_queried_tokens) as engine_queried_tokens,
        sum(e.prefix_cache_hit_tokens) as engine_hit_tokens,
        sum(e.counter_resets) as engine_counter_resets,
        count(distinct e.instance) as engine_servers
    from {{ ref('int_engine__hourly') }} as e
    inner join claims as c
        on e.model_name = c.model_name
        and cast(e.hour_start as date) >= c.valid_from
        and (c.valid_to is null or cast(e.hour_start as date) < c.valid_to)
    group by c.deployment_id, e.hour_start
),

logged as (
    select deployment_id, hour_start, input_tokens, cached_tokens
    from {{ ref('int_requests__deployment_hourly') }}
    where deployment_id is not null
),

final as (
    select
        coalesce(logged.deployment_id, engine.deployment_id) as deployment_id,
        coalesce(logged.hour_start, engine.hour_start) as hour_start,
        cast(coalesce(logged.input_tokens, 0) as bigint) as input_tokens,
        cast(coalesce(logged.cached_tokens, 0) as bigint) as cached_tokens,
        cast(engine.engine_queried_tokens as bigint) as engine_queried_tokens,
        cast(engine.engine_hit_tokens as bigint) as engine_hit_tokens,
        cast(coalesce(engine.engine_counter_resets, 0) as bigint) as engine_counter_resets,
        cast(coalesce(engine.engine_servers, 0) as bigint) as engine_servers
    from logged
    full outer join engine
        on logged.deployment_id = engine.deployment_id and logged.hour_start = engine.hour_start
)

select * from final
