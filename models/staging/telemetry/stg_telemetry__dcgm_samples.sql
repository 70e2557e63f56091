{{ config(tags=['daily']) }}

{#- DCGM samples with the busy signal every rollup uses: GR_ENGINE_ACTIVE (the only one MIG
    slices report, dcgm-exporter #216), else GPU_UTIL as a 0-1 ratio. Tagged daily (a view):
    its source table exists only once the first daily telemetry load has run. A raw scrape
    carries its series' id; the GPU's labels are stored once per series (dcgm_series). -#}
select
    s.ts,
    e.host,
    e.gpu_index,
    s.gpu_uuid,
    s.gpu_instance_id,
    e.gpu_instance_profile,
    e.gpu_model_name,
    e.gpu_type,
    e.namespace,
    e.pod,
    e.container,
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
from {{ source('telemetry', 'dcgm_samples') }} as s
inner join {{ source('telemetry', 'dcgm_series') }} as e
    on s.series_id = e.series_id
