-- vLLM prefix-cache counters per deployment and UTC hour in [$start_ts, $end_ts)
-- (int_prefix_cache__hourly: Δ queries and hits, restart-aware), beside the day's actual
-- prefill cost of a computed prompt token (fct_prefix_cache_daily, usage basis, DECIMAL).
-- Only hours with counters: the prefix_cache kind reads nothing else.
select
    h.deployment_id,
    cast(h.hour_start as date) as usage_date,
    h.hour_start,
    h.engine_queried_tokens as queried_tokens,
    h.engine_hit_tokens as hit_tokens,
    d.usd_per_1m_computed_input_tokens
from intermediate.int_prefix_cache__hourly as h
left join marts.fct_prefix_cache_daily as d
    on h.deployment_id = d.deployment_id and cast(h.hour_start as date) = d.usage_date
where h.hour_start >= $start_ts and h.hour_start < $end_ts
    and h.engine_queried_tokens is not null
order by h.deployment_id, h.hour_start
