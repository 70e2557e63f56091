{#- Which deployment owns a resource on a given day: every selector with its deployment's
    validity window. Billing, telemetry and request rows join here (kind, value, day). -#}

with selectors as (
    select * from {{ ref('stg_registry__selectors') }}
),

deployments as (
    select * from {{ ref('stg_registry__deployments') }}
),

final as (
    select
        s.selector_kind,
        s.selector_value,
        s.host,
        s.gpu_index,
        s.resource_id,
        s.pod_labels_json,
        s.gpu_instance_id,
        s.mig_compute_slices,
        s.deployment_id,
        d.llm_id,
        d.gpu_type,
        d.valid_from,
        d.valid_to
    from selectors as s
    inner join deployments as d on s.deployment_id = d.deployment_id
)

select * from final
