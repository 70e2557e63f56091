with deployments as (
    select * from {{ ref('stg_registry__deployments') }}
),

llms as (
    select * from {{ ref('stg_catalog__llms') }}
),

gpus as (
    select * from {{ ref('stg_catalog__gpus') }}
),

selectors as (
    select
        deployment_id,
        count(*) filter (where selector_kind = 'cloud_resource_id') as n_cloud_resources,
        count(*) filter (where selector_kind in ('gpu_uuid', 'host_gpu')) as n_gpu_selectors,
        {{ sorted_list_agg('selector_value', "selector_kind = 'request_model_name'") }} as request_model_names
    from {{ ref('stg_registry__selectors') }}
    group by all
),

final as (
    select
        d.deployment_id,
        d.team,
        d.llm_id,
        l.display_name as llm_display_name,
        l.family as llm_family,
        l.is_moe,
        d.engine,
        d.engine_version,
        d.weight_precision,
        d.kv_cache_precision,
        d.tensor_parallel,
        d.gpu_type,
        g.display_name as gpu_display_name,
        g.memory_gib as gpu_memory_gib,
        d.gpu_count,
        d.replicas,
        d.gpu_count * g.memory_gib as total_gpu_memory_gib,
        coalesce(s.n_cloud_resources, 0) as n_cloud_resources,
        coalesce(s.n_gpu_selectors, 0) as n_gpu_selectors,
        s.request_model_names,
        d.valid_from,
        d.valid_to,
        d.api_eligible,
        d.api_substitute_llm_ids
    from deployments as d
    inner join llms as l on d.llm_id = l.llm_id
    inner join gpus as g on d.gpu_type = g.gpu_id
    left join selectors as s on d.deployment_id = s.deployment_id
)

select * from final
