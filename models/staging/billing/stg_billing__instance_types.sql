select
    provider,
    lower(instance_type) as instance_type,
    gpu_id,
    cast(gpus_per_instance as integer) as gpus_per_instance,
    cast(usd_per_hour as decimal(38, 12)) as on_demand_usd_per_hour,
    region
from {{ source('billing', 'instance_types') }}
union all
-- on-prem hosts (unitcost.yaml onprem:): their lines' instance type names GPU and count
select distinct
    'onprem' as provider,
    {{ onprem_instance_type('gpu_type', 'gpu_count') }} as instance_type,
    gpu_type as gpu_id,
    cast(gpu_count as integer) as gpus_per_instance,
    cast(null as decimal(38, 12)) as on_demand_usd_per_hour,
    cast(null as {{ t_string() }}) as region
from {{ source('onprem', 'onprem_hosts') }}
