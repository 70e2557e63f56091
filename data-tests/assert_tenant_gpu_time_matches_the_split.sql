{{ config(severity='error', tags=['daily'], meta={'dagster': {'ref': {'name': 'int_requests__tenant_hourly'}}}) }}

{#- The tenants' GPU time is the split's: per deployment-hour their gpu_seconds add up to
    int_requests__gpu_time_hourly.busy_replica_seconds within the rounding of each tenant's
    hour to whole µs (0.5 µs a tenant) and of each stretch's share to 10⁻⁵ µs (0.5 µs per
    100,000 stretches): 0.5 µs a tenant + 1 µs allowed. Measured at 1,024 GPUs: at most 1 µs
    (it was 473 µs while each request's share was rounded to µs, 1 ms allowed then). -#}

with tenants as (
    select hour_start, deployment_id, sum(gpu_seconds) as gpu_seconds, count(*) as tenants
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
where abs(coalesce(tenants.gpu_seconds, 0) - coalesce(split.busy_replica_seconds, 0))
    > (0.5 * coalesce(tenants.tenants, 0) + 1) / 1e6
