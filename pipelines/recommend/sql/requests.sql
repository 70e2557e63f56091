-- Per-request GPU phases of mapped requests arriving in [$start, $end), µs since the epoch
-- (intermediate.int_requests__phases: prefill is compute, queue wait excluded; `replica` is
-- one replica's log stream, `replicas_sharing` how many replicas it may hold), with the
-- share of the deployment's GPU-hours telemetry observed in the hour of arrival. Requests
-- without usage are left out: their tokens are unknown, so they can be neither priced nor
-- calibrated on.
with observed as (
    select
        deployment_id,
        hour_start,
        coalesce(sum(gpu_hours) filter (where telemetry_observed), 0) / sum(gpu_hours)
            as observed_share
    from intermediate.int_allocation__gpu_hours
    where
        deployment_id is not null
        and hour_start >= $start_ts and hour_start < $end_ts
        and gpu_hours > 0
    group by deployment_id, hour_start
)

select
    p.deployment_id,
    p.replica_key as replica,
    p.replicas_sharing,
    p.arrival_day as usage_date,
    p.arrival_us,
    p.prefill_start_us,
    p.first_token_us,
    p.finish_us,
    p.input_tokens,
    p.output_tokens,
    p.cached_tokens,
    not p.is_error and p.first_token_us is not null as ok,
    round(coalesce(o.observed_share, 0), 9) as observed_share
from intermediate.int_requests__phases as p
left join observed as o
    on p.deployment_id = o.deployment_id and date_trunc('hour', p.arrival_ts) = o.hour_start
where
    p.arrival_ts >= $start_ts and p.arrival_ts < $end_ts
    and p.input_tokens is not null and p.output_tokens is not null
order by p.deployment_id, p.arrival_us, p.request_source, p.request_id
