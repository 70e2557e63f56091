select
    deployment_id,
    team,
    llm_id,
    engine,
    engine_version,
    weight_precision,
    kv_cache_precision,
    cast(tensor_parallel as integer) as tensor_parallel,
    gpu_type,
    cast(gpu_count as integer) as gpu_count,
    cast(replicas as integer) as replicas,
    cast(valid_from as date) as valid_from,
    cast(valid_to as date) as valid_to,
    coalesce(cast(api_eligible as boolean), false) as api_eligible,
    cast(api_substitute_llm_ids as {{ t_string_array() }}) as api_substitute_llm_ids
from {{ source('registry', 'registry_deployments') }}
