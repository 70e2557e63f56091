-- Per deployment and UTC hour in [$start_ts, $end_ts): the vLLM saturation signals the
-- right-size guard reads (pipelines/recommend/saturation.py).
select deployment_id, hour_start, waiting_p95_requests, waiting_max_requests, preemptions
from marts.fct_saturation_hourly
where hour_start >= $start_ts and hour_start < $end_ts
order by deployment_id, hour_start
