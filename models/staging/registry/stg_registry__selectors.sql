select
    deployment_id,
    selector_kind,
    selector_value,
    host,
    cast(gpu_index as integer) as gpu_index,
    resource_id,
    pod_labels_json
from {{ source('registry', 'registry_selectors') }}
