-- Per-request GPU phases of mapped requests arriving in [$start, $end), µs since the epoch,
-- with the requests on their replica's GPUs over their decode and over their life
-- (intermediate.int_requests__replica_sweep: the split's own sweep; prefill is compute,
-- queue wait excluded; NULL over an empty interval), and the share of the deployment's
-- GPU-hours telemetry observed in the hour of arrival. Requests without usage are left out:
-- their tokens are unknown, so they can be neither priced nor calibrated on (they still
-- count in the others' concurrency). ``sample_key`` picks the calibration sample: a hash of the
-- request's identity, so the same requests are picked whatever the window
-- (pipelines/recommend/calibrate.py::calibration_sample).
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
    r.deployment_id,
    r.arrival_day as usage_date,
    r.arrival_us,
    r.first_token_us,
    r.finish_us,
    r.input_tokens,
    r.output_tokens,
    r.cached_tokens,
    not r.is_error and r.first_token_us is not null as ok,
    round(coalesce(o.observed_share, 0), 9) as observed_share,
    r.decode_concurrency,
    r.life_concurrency,
    hash(r.request_source, r.request_id) as sample_key
from intermediate.int_requests__replica_sweep as r
left join observed as o
    on r.deployment_id = o.deployment_id and date_trunc('hour', r.arrival_ts) = o.hour_start
where
    r.arrival_ts >= $start_ts and r.arrival_ts < $end_ts
    and r.input_tokens is not null and r.output_tokens is not null
-- Requests of a deployment arriving in the same µs are ordered by sample_key, then by their
-- strings (a 64-bit hash tie): a third faster than sorting 18 M requests on the strings, and
-- the engine's output is the same (compared at 1,024 GPUs, docs/performance.md)
order by r.deployment_id, r.arrival_us, sample_key, r.request_source, r.request_id
