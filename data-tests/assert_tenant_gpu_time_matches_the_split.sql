{{ config(severity='error', tags=['daily'], meta={'dagster': {'ref': {'name': 'int_requests__tenant_hourly'}}}) }}

{#- The tenants' GPU time is the split's: per deployment-hour their gpu_seconds add up to
    int_requests__gpu_time_hourly.busy_replica_seconds, within the rounding of each request's
    share to whole µs (at most 0.5 µs a request-hour; 1 ms allowed an hour). -#}

with tenants as (
    select hour_start, deployment_id, sum(gpu_seconds) as gpu_seconds
    from {{ ref('int_requests__tenant_hourly') }}
    where gpu_us > 0
    group by all
),

split as (
    select hour_start, deployment_id, busy_replica_seconds
    from {{ ref('int_requests__gpu_time_hourly') }}
    where busy_replica_seconds > 0
)

select *
from tenants
full outer join split using (hour_start, deployment_id)
where abs(coalesce(tenants.gpu_seconds, 0) - coalesce(split.busy_replica_seconds, 0)) > 0.001
