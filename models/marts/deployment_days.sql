{{
    config(
        materialized='incremental',
        incremental_strategy='replace_window',
        tags=['daily'],
        meta={'window_column': 'day'}
    )
}}

{#- The daily spine every allocation joins to: which deployments were declared on which UTC day,
    with the GPUs they hold. Rebuilds exactly the partition window. -#}

with deployments as (
    select * from {{ ref('stg_registry__deployments') }}
),

days as (
    select {{ unnest_series(
        'cast(' ~ window_start() ~ ' as timestamp)',
        'cast(' ~ window_end() ~ ' as timestamp) - interval 1 day',
        'interval 1 day',
        cast_to='date'
    ) }} as day
),

final as (
    select
        days.day,
        d.deployment_id,
        d.team,
        d.llm_id,
        d.gpu_type,
        d.gpu_count,
        d.replicas,
        cast(d.gpu_count * 24 as decimal(18, 6)) as declared_gpu_hours
    from days
    inner join deployments as d
        on days.day >= d.valid_from
        and (d.valid_to is null or days.day < d.valid_to)
)

select * from final
