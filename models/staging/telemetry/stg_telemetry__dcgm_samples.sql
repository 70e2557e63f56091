{{ config(tags=['daily']) }}

{#- DCGM samples with the busy signal every rollup uses: GR_ENGINE_ACTIVE (the only one MIG
    slices report, dcgm-exporter #216), else GPU_UTIL as a 0-1 ratio. Tagged daily (a view):
    its source table exists only once the first daily telemetry load has run. -#}
select
    ts,
    host,
    gpu_index,
    gpu_uuid,
    gpu_instance_id,
    gpu_instance_profile,
    gpu_model_name,
    gpu_type,
    namespace,
    pod,
    container,
    gpu_util_pct,
    gr_engine_active,
    sm_active,
    sm_occupancy,
    tensor_active,
    dram_active,
    fb_used_mib,
    fb_free_mib,
    power_w,
    energy_mj,
    gpu_temp_c,
    memory_temp_c,
    sm_clock_mhz,
    xid_errors,
    coalesce(gr_engine_active, gpu_util_pct / 100.0) as busy_ratio
from {{ source('telemetry', 'dcgm_samples') }}
