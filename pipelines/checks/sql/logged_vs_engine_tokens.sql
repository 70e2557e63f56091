-- Tokens per deployment from request logs and from vLLM's own counters (engine counters
-- are per model_name; the registry maps model names to deployments).
-- Parameters: window start, end (engine), start, end (logs).
with claims as (
    select selector_value as model_name, deployment_id, valid_from, valid_to
    from intermediate.int_registry__resource_claims
    where selector_kind = 'request_model_name'
),
engine as (
    select c.deployment_id, sum(e.prompt_tokens + e.generation_tokens) as tokens
    from intermediate.int_engine__hourly as e
    inner join claims as c
        on e.model_name = c.model_name
        and cast(e.hour_start as date) >= c.valid_from
        and (c.valid_to is null or cast(e.hour_start as date) < c.valid_to)
    where e.hour_start >= ? and e.hour_start < ?
    group by all
),
logged as (
    select deployment_id, sum(input_tokens + output_tokens) as tokens
    from intermediate.int_requests__deployment_hourly
    where hour_start >= ? and hour_start < ? and deployment_id is not null
    group by all
)
select deployment_id, logged.tokens, engine.tokens
from logged full outer join engine using (deployment_id)
order by 1
