-- Billed GPU-hours per deployment ('(unallocated)' for none) and those DCGM telemetry saw,
-- each weighted by the share of the hour it covered. Parameters: window start, end.
select
    coalesce(deployment_id, '(unallocated)') as deployment,
    sum(gpu_hours) as billed_gpu_hours,
    sum(gpu_hours * telemetry_coverage) as observed_gpu_hours
from intermediate.int_allocation__gpu_hours
where hour_start >= ? and hour_start < ?
group by all
order by 1
