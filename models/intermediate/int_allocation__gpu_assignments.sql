{#- Which deployment holds a billed GPU: one row per claim of (resource_id, gpu_index) with
    the deployment's validity [valid_from, valid_to). A host selector that names its
    cloud_resource_id claims those GPU indexes, whole (slices 7 of 7) or as MIG slices (one
    row per GPU instance, its profile's compute slices of 7); a cloud_resource_id selector
    claims the whole instance (gpu_index NULL: every GPU not claimed index by index). The telemetry host is
    the host any selector names for that instance; without one, the GPU-hours of the claim
    have no telemetry key and count as unobserved. -#}

with claims as (
    select * from {{ ref('int_registry__resource_claims') }}
),

instance_hosts as (
    select resource_id, min(host) as host
    from claims
    where selector_kind = 'host_gpu' and resource_id is not null
    group by resource_id
),

by_index as (
    select
        deployment_id, llm_id, resource_id, gpu_index, gpu_instance_id,
        coalesce(mig_compute_slices, 7) as slices, valid_from, valid_to
    from claims
    where selector_kind = 'host_gpu' and resource_id is not null
),

whole as (
    select
        deployment_id, llm_id, selector_value as resource_id, cast(null as integer) as gpu_index,
        cast(null as integer) as gpu_instance_id, 7 as slices, valid_from, valid_to
    from claims
    where selector_kind = 'cloud_resource_id'
),

final as (
    select claimed.*, instance_hosts.host
    from (select * from by_index union all select * from whole) as claimed
    left join instance_hosts on claimed.resource_id = instance_hosts.resource_id
)

select * from final
