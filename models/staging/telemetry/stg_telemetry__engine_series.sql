{{ config(tags=['daily']) }}
{#- vLLM series: the labels of each series id, stored once per series at ingest. Models that
    read a series' samples in time order (int_engine__hourly) sort the narrow samples by id and
    join these labels afterwards, rather than carrying seven label strings through the sort. -#}
select
    series_id,
    host,
    instance,
    namespace,
    pod,
    model_name,
    engine,
    metric,
    le
from {{ source('telemetry', 'engine_series') }}
