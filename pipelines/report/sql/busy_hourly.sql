-- The GPU-busy heatmap: per deployment and hour of the week (ISO day 1 = Monday .. 7, UTC
-- hour 0-23) over the week [$first_day, $last_day], the DCGM busy share of the GPU-hours
-- telemetry observed (marts.fct_gpu_busy_hourly): Σ busy ÷ Σ observed GPU-hours. A 7-day week
-- has each hour of the week once. NULL busy_fraction: held, but no GPU-hour observed.
select
    deployment_id,
    cast(isodow(hour_start at time zone 'UTC') as integer) as iso_weekday,
    cast(hour(hour_start at time zone 'UTC') as integer) as hour_utc,
    min(usage_date) as first_date,
    sum(held_gpu_hours) as held_gpu_hours,
    sum(observed_gpu_hours) as observed_gpu_hours,
    sum(busy_gpu_hours) / nullif(sum(observed_gpu_hours), 0) as busy_fraction
from marts.fct_gpu_busy_hourly
where usage_date between $first_day and $last_day
group by all
order by deployment_id, iso_weekday, hour_utc
