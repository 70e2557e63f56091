-- Per-request timings of mapped requests arriving in [$start, $end), µs since the epoch.
-- Logs name a pod or a host, not a replica: `replica` is the log stream (pod, else host,
-- else the whole deployment) and `replicas_sharing` how many replicas it may hold (a host
-- carries its host_gpu selectors / tensor_parallel of them). Requests without usage are
-- left out: their tokens are unknown, so they can be neither priced nor calibrated on.
with deployments as (
    select deployment_id, tensor_parallel, replicas from marts.dim_deployments
),

host_replicas as (
    select
        s.deployment_id,
        s.host,
        greatest(1, count(*) // any_value(d.tensor_parallel)) as replicas_on_host
    from staging.stg_registry__selectors as s
    inner join deployments as d on s.deployment_id = d.deployment_id
    where s.selector_kind = 'host_gpu'
    group by s.deployment_id, s.host
)

select
    r.deployment_id,
    coalesce(r.pod, r.host, '') as replica,
    case
        when r.pod is not null then 1
        else coalesce(h.replicas_on_host, d.replicas)
    end as replicas_sharing,
    cast(r.arrival_ts as date) as usage_date,
    epoch_us(r.arrival_ts) as arrival_us,
    epoch_us(r.arrival_ts) + cast(round(r.ttft_ms * 1000) as bigint) as first_token_us,
    epoch_us(r.arrival_ts) + cast(round(r.e2e_ms * 1000) as bigint) as finish_us,
    r.input_tokens,
    r.output_tokens,
    coalesce(r.cached_tokens, 0) as cached_tokens,
    not r.is_error and r.ttft_ms is not null as ok
from intermediate.int_requests__mapped as r
inner join deployments as d on r.deployment_id = d.deployment_id
left join host_replicas as h on r.deployment_id = h.deployment_id and r.host = h.host
where
    r.arrival_ts >= $start_ts and r.arrival_ts < $end_ts
    and not r.usage_missing
    and r.e2e_ms is not null
order by r.deployment_id, r.arrival_ts, r.request_source, r.request_id
