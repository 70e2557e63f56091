{#- How busy each deployment's GPUs were, hour by hour: the DCGM busy share of the GPU-hours it
    held (int_allocation__gpu_hours, the same busy_fraction that allocation and
    fct_efficiency_daily use), summed over its GPUs. busy_fraction is over the observed
    GPU-hours only: a GPU-hour without telemetry is allocated whole but is no evidence of
    busy or idle, so it is counted apart (unobserved_gpu_hours) and NULL when nothing was
    observed. The weekly report's heatmap reads it (deployment × hour of the week). -#}

-- Summed as DECIMAL, not DOUBLE: a parallel DOUBLE sum adds in whatever order the threads
-- finish, so a re-run could differ in the last bit (it did at 1,024 GPUs); each piece is
-- rounded to 12 decimals first (a GPU-hour, a MIG slice of 1/7, a busy share in ppm).
with pieces as (
    select
        deployment_id,
        hour_start,
        telemetry_observed,
        cast(gpu_hours as decimal(38, 12)) as gpu_hours,
        cast(gpu_hours * busy_fraction as decimal(38, 12)) as busy_gpu_hours
    from {{ ref('int_allocation__gpu_hours') }}
    where deployment_id is not null
)

select
    deployment_id,
    hour_start,
    cast(hour_start as date) as usage_date,
    cast(sum(gpu_hours) as double) as held_gpu_hours,
    cast(coalesce(sum(gpu_hours) filter (where telemetry_observed), 0) as double)
        as observed_gpu_hours,
    cast(coalesce(sum(gpu_hours) filter (where not telemetry_observed), 0) as double)
        as unobserved_gpu_hours,
    cast(coalesce(sum(busy_gpu_hours) filter (where telemetry_observed), 0) as double)
        as busy_gpu_hours,
    cast(sum(busy_gpu_hours) filter (where telemetry_observed) as double)
    / cast(nullif(sum(gpu_hours) filter (where telemetry_observed), 0) as double)
        as busy_fraction
from pieces
group by deployment_id, hour_start
having sum(gpu_hours) > 0
