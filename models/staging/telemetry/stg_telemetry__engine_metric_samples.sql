{{ config(tags=['daily']) }}

{#- vLLM series samples, names already normalised at ingest (no `vllm:` prefix; the old
    gpu_cache_usage_perc is kv_cache_usage_perc). Tagged daily like the DCGM view. -#}
select
    ts,
    host,
    instance,
    namespace,
    pod,
    model_name,
    engine,
    metric,
    le,
    value
from {{ source('telemetry', 'engine_metric_samples') }}
