-- Per deployment and UTC day in [$start, $end): busy fraction and its busiest hour from DCGM
-- (busy / observed seconds per GPU-hour, MIG slices summed, GPUs found by their host_gpu
-- selectors while the deployment is valid), the share of its GPU-seconds telemetry saw, and
-- its allocation-basis (allocated + idle) cost in USD (every currency, each line at its
-- billing period's rate from int_billing__usd_rates: RELIABILITY case 8), and the observed
-- batch: requests on a replica's GPUs while it has any (the split's sweep,
-- int_requests__gpu_time_hourly). Only days with both telemetry and cost.
-- Rounded so that re-runs are bit-identical (parallel float sums differ in the last bit).
with deployments as (
    select deployment_id, gpu_count, valid_from, valid_to from marts.dim_deployments
),

gpus as (
    select s.deployment_id, s.host, s.gpu_index, d.valid_from, d.valid_to
    from staging.stg_registry__selectors as s
    inner join deployments as d on s.deployment_id = d.deployment_id
    where s.selector_kind = 'host_gpu'
),

gpu_hours as (
    select
        hour_start,
        host,
        gpu_index,
        sum(busy_seconds) as busy_seconds,
        -- busy time is measured only over seconds with a utilisation signal
        sum(coalesce(busy_observed_seconds, observed_seconds)) as observed_seconds
    from intermediate.int_telemetry__gpu_hourly
    where hour_start >= $start_ts and hour_start < $end_ts and busy_seconds is not null
    group by hour_start, host, gpu_index
    having sum(coalesce(busy_observed_seconds, observed_seconds)) > 0
),

hourly as (
    select
        g.deployment_id,
        cast(t.hour_start as date) as usage_date,
        t.hour_start,
        avg(least(1.0, t.busy_seconds / t.observed_seconds)) as busy,
        sum(t.observed_seconds) as observed_seconds
    from gpu_hours as t
    inner join gpus as g
        on t.host = g.host
        and t.gpu_index = g.gpu_index
        and cast(t.hour_start as date) >= g.valid_from
        and (g.valid_to is null or cast(t.hour_start as date) < g.valid_to)
    group by all
),

busy as (
    select
        h.deployment_id,
        h.usage_date,
        round(avg(h.busy), 9) as busy_fraction,
        round(max(h.busy), 9) as peak_hour_busy_fraction,
        round(least(1.0, sum(h.observed_seconds) / (any_value(d.gpu_count) * 86400.0)), 9)
            as telemetry_coverage
    from hourly as h
    inner join deployments as d on h.deployment_id = d.deployment_id
    group by h.deployment_id, h.usage_date
),

sweep as (
    select
        deployment_id,
        cast(hour_start as date) as usage_date,
        round(sum(in_flight_request_seconds) / nullif(sum(busy_replica_seconds), 0), 9)
            as batch_observed
    from intermediate.int_requests__gpu_time_hourly
    where hour_start >= $start_ts and hour_start < $end_ts
    group by deployment_id, cast(hour_start as date)
),

usd_rates as (
    select * from intermediate.int_billing__usd_rates
),

cost as (
    -- each line at its billing period's rate (1 for USD), in DECIMAL, rounded once per sum
    select
        a.deployment_id,
        a.usage_date,
        cast(sum(a.effective_cost * r.usd_per_unit) as decimal(38, 12)) as cost_usd
    from marts.fct_cost_allocation_daily as a
    inner join usd_rates as r
        on a.billing_currency = r.billing_currency and a.billing_period = r.billing_period
    where
        a.allocation_kind in ('allocated', 'idle')
        and a.usage_date >= $start and a.usage_date < $end
    group by a.deployment_id, a.usage_date
)

select busy.*, sweep.batch_observed, cast(cost.cost_usd as double) as cost_usd
from busy
inner join cost
    on busy.deployment_id = cost.deployment_id and busy.usage_date = cost.usage_date
left join sweep
    on busy.deployment_id = sweep.deployment_id and busy.usage_date = sweep.usage_date
where cost.cost_usd > 0
order by busy.deployment_id, busy.usage_date
