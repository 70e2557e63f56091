{#- The configured on-prem entries, typed. An entry names one host or a glob of hosts; the
    glob is resolved against the hosts the registry and DCGM name (int_onprem__line_items). -#}

select
    cast(entry_index as integer) as entry_index,
    host,
    host_pattern,
    gpu_type,
    cast(gpu_count as integer) as gpu_count,
    billing_account_id,
    billing_currency,
    cast(amortisation_usd_per_day as decimal(38, 12)) as amortisation_usd_per_day,
    cast(overhead_usd_per_day as decimal(38, 12)) as overhead_usd_per_day,
    cast(usd_per_kwh as decimal(18, 6)) as usd_per_kwh,
    cast(pue as decimal(6, 3)) as pue,
    fallback_power_w_per_gpu,
    in_service_from,
    retired_on,
    -- the instance type its billing-like lines carry: what stg_billing__instance_types maps
    -- to GPUs, so allocation cuts them by GPU-hour like a cloud instance's
    {{ onprem_instance_type('gpu_type', 'gpu_count') }} as instance_type
from {{ source('onprem', 'onprem_hosts') }}
