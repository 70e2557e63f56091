select
    provider,
    lower(instance_type) as instance_type,
    gpu_id,
    cast(gpus_per_instance as integer) as gpus_per_instance,
    cast(usd_per_hour as decimal(38, 12)) as on_demand_usd_per_hour,
    region
from {{ source('billing', 'instance_types') }}
