{{ config(tags=['daily']) }}

{#- vLLM series samples, names already normalised at ingest (no `vllm:` prefix; the old
    gpu_cache_usage_perc is kv_cache_usage_perc). Tagged daily like the DCGM view. A raw
    sample carries its series' id; the labels are stored once per series (engine_series). -#}
select
    s.ts,
    s.series_id,
    e.host,
    e.instance,
    e.namespace,
    e.pod,
    e.model_name,
    e.engine,
    e.metric,
    e.le,
    s.value
from {{ source('telemetry', 'engine_metric_samples') }} as s
inner join {{ source('telemetry', 'engine_series') }} as e
    on s.series_id = e.series_id
