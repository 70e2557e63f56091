select
    deployment_id,
    selector_kind,
    selector_value,
    host,
    cast(gpu_index as integer) as gpu_index,
    resource_id,
    pod_labels_json,
    cast(gpu_instance_id as integer) as gpu_instance_id,
    cast(mig_compute_slices as integer) as mig_compute_slices
from {{ source('registry', 'registry_selectors') }}
