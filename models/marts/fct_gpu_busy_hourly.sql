{#- How busy each deployment's GPUs were, hour by hour: the DCGM busy share of the GPU-hours it
    held (int_allocation__gpu_hours, the same busy_fraction that allocation and
    fct_efficiency_daily use), summed over its GPUs. busy_fraction is over the observed
    GPU-hours only: a GPU-hour without telemetry is allocated whole but is no evidence of
    busy or idle, so it is counted apart (unobserved_gpu_hours) and NULL when nothing was
    observed. The weekly report's heatmap reads it (deployment × hour of the week). -#}

with pieces as (
    select * from {{ ref('int_allocation__gpu_hours') }}
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
    cast(coalesce(sum(gpu_hours * busy_fraction) filter (where telemetry_observed), 0) as double)
        as busy_gpu_hours,
    cast(
        sum(gpu_hours * busy_fraction) filter (where telemetry_observed)
        / nullif(sum(gpu_hours) filter (where telemetry_observed), 0)
        as double
    ) as busy_fraction
from pieces
group by deployment_id, hour_start
having sum(gpu_hours) > 0
