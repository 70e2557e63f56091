{{ config(tags=['daily']) }}

{#- Each timed request of a deployment with the times of its GPU phases, µs since the epoch:
    prefill from prefill_start_us to first_token_us, decode from there to finish_us. Time
    queued for a batch slot (arrival to prefill start) is on no GPU, so it is charged to
    nothing. TTFT holds queue wait and prefill; the prefill part comes from, in order:
      engine      the engine's own prefill vs TTFT histograms for the deployment-hour (vLLM
                  request_prefill_time / time_to_first_token): each TTFT × that hour's share;
      cost_model  the prompt's uncached tokens × the cost model's prefill seconds per token
                  (stg_registry__prefill_rates), capped at the TTFT;
      ttft        neither: the whole TTFT (queue wait then counts as prefill: a known bias).
    replica_key is the log stream of one engine replica: its pod, else its server (host:port
    of the upstream URL), else its host; a host stream may hold several replicas
    (replicas_sharing > 1) when the log names neither. A view: its consumers filter by
    arrival day, which DuckDB pushes down. -#}

with requests as (
    select * from {{ ref('int_requests__mapped') }}
    -- a request that failed before its first token was on the GPUs until it failed: its
    -- whole life is prefill (first_token_us NULL)
    where deployment_id is not null and e2e_ms is not null
        and (ttft_ms is null or e2e_ms >= ttft_ms)
),

deployments as (
    select deployment_id, tensor_parallel, replicas from {{ ref('stg_registry__deployments') }}
),

host_replicas as (
    -- a host carries its claimed GPUs / tensor_parallel replicas of the deployment
    select
        s.deployment_id,
        s.host,
        greatest(1, {{ int_div('count(*)', 'any_value(d.tensor_parallel)') }}) as replicas_on_host
    from {{ ref('stg_registry__selectors') }} as s
    inner join deployments as d on s.deployment_id = d.deployment_id
    where s.selector_kind = 'host_gpu'
    group by s.deployment_id, s.host
),

engine_hours as (
    select
        c.deployment_id,
        e.hour_start,
        sum(e.mean_prefill_s * e.requests_finished)
        / sum(e.mean_ttft_s * e.requests_finished) as prefill_share_of_ttft
    from {{ ref('int_engine__hourly') }} as e
    inner join {{ ref('int_registry__resource_claims') }} as c
        on c.selector_kind = 'request_model_name'
        and c.selector_value = e.model_name
        and cast(e.hour_start as date) >= c.valid_from
        and (c.valid_to is null or cast(e.hour_start as date) < c.valid_to)
    where e.mean_prefill_s is not null and e.mean_ttft_s > 0 and e.requests_finished > 0
    group by all
),

timed as (
    select
        r.deployment_id,
        r.request_source,
        r.request_id,
        coalesce(r.pod, r.server, r.host, '') as replica_key,
        case
            when r.pod is not null or r.server is not null then 1
            else coalesce(h.replicas_on_host, d.replicas)
        end as replicas_sharing,
        r.arrival_ts,
        cast(r.arrival_ts as date) as arrival_day,
        {{ epoch_us('r.arrival_ts') }} as arrival_us,
        {{ epoch_us('r.arrival_ts') }} + cast(round(r.ttft_ms * 1000) as bigint) as first_token_us,
        {{ epoch_us('r.arrival_ts') }} + cast(round(r.e2e_ms * 1000) as bigint) as finish_us,
        r.input_tokens,
        r.output_tokens,
        coalesce(r.cached_tokens, 0) as cached_tokens,
        r.is_error,
        case
            when e.prefill_share_of_ttft is not null then 'engine'
            when p.modelled_prefill_seconds_per_token is not null then 'cost_model'
            else 'ttft'
        end as prefill_source,
        cast(round(case
            when e.prefill_share_of_ttft is not null
                then coalesce(r.ttft_ms, r.e2e_ms) * 1000 * least(1.0, e.prefill_share_of_ttft)
            when p.modelled_prefill_seconds_per_token is not null
                then least(
                    coalesce(r.ttft_ms, r.e2e_ms) * 1000,
                    1e6 * p.modelled_prefill_seconds_per_token
                    * greatest(coalesce(r.input_tokens, 0) - coalesce(r.cached_tokens, 0), 1)
                )
            else coalesce(r.ttft_ms, r.e2e_ms) * 1000
        end) as bigint) as prefill_us
    from requests as r
    inner join deployments as d on r.deployment_id = d.deployment_id
    left join host_replicas as h on r.deployment_id = h.deployment_id and r.host = h.host
    left join engine_hours as e
        on r.deployment_id = e.deployment_id and date_trunc('hour', r.arrival_ts) = e.hour_start
    left join {{ ref('stg_registry__prefill_rates') }} as p on r.deployment_id = p.deployment_id
),

final as (
    select
        deployment_id,
        request_source,
        request_id,
        replica_key,
        replicas_sharing,
        arrival_ts,
        arrival_day,
        arrival_us,
        coalesce(first_token_us, finish_us) - prefill_us as prefill_start_us,
        first_token_us,
        finish_us,
        input_tokens,
        output_tokens,
        cached_tokens,
        is_error,
        prefill_source
    from timed
)

select * from final
