{#- The one split of a deployment-day's cost (docs/cost-split.md), as CTEs both of its marts
    read: fct_cost_per_token_daily (prefill : decode) and fct_cost_by_tenant_daily (tenants).
      costs           per deployment-hour (hour_start NULL: the day's claimed non-GPU cost),
                      usage_cost and allocation_cost in USD, rounded to 10^-12 there;
      gpu_time        int_requests__gpu_time_hourly's replica-seconds per deployment-hour;
      requests / request_days   tokens and timings per deployment-hour / -day;
      fitted_weights  a day without timings: the decode-token weight w fitted on the
                      deployment's own days with timings in the 28 days before;
      day_shares      the day's split_method and day_prefill_share.
    Rendered inside each mart, so its billing window is that mart's. -#}
{% macro cost_split_ctes() -%}
usd_rates as (
    select * from {{ ref('int_billing__usd_rates') }}
),

gpu as (
    select
        g.deployment_id,
        any_value(g.llm_id) as llm_id,
        g.usage_date,
        g.hour_start,
        cast(sum(g.busy_effective_cost * r.usd_per_unit) as decimal(38, 12)) as usage_cost,
        cast(sum(g.effective_cost * r.usd_per_unit) as decimal(38, 12)) as allocation_cost
    from {{ ref('int_allocation__gpu_hours') }} as g
    -- every billed currency and period has a rate: int_billing__usd_rates' not_null test
    inner join usd_rates as r
        on g.billing_currency = r.billing_currency and g.billing_period = r.billing_period
    where g.deployment_id is not null and {{ in_billing_window('g.billing_period') }}
    group by g.deployment_id, g.usage_date, g.hour_start
),

other as (
    -- claimed non-GPU cost per day; it has no hour, so it takes the day's ratio
    select
        a.deployment_id,
        any_value(a.llm_id) as llm_id,
        a.usage_date,
        cast(null as {{ t_timestamptz() }}) as hour_start,
        cast(0 as decimal(38, 12)) as usage_cost,
        cast(sum((a.effective_cost - a.gpu_effective_cost) * r.usd_per_unit) as decimal(38, 12))
            as allocation_cost
    from {{ ref('fct_cost_allocation_daily') }} as a
    inner join usd_rates as r
        on a.billing_currency = r.billing_currency and a.billing_period = r.billing_period
    where a.allocation_kind = 'allocated' and {{ in_billing_window('a.billing_period') }}
    group by a.deployment_id, a.usage_date
    having sum((a.effective_cost - a.gpu_effective_cost) * r.usd_per_unit) <> 0
),

costs as (
    select * from gpu
    union all
    select * from other
),

gpu_time as (
    select
        hour_start,
        deployment_id,
        prefill_replica_seconds as prefill_gpu_seconds,
        prefill_replica_seconds + decode_replica_seconds as e2e_seconds,
        decode_replica_seconds
    from {{ ref('int_requests__gpu_time_hourly') }}
),

fit_days as (
    -- every day with timings and tokens, all history: what a deployment's fallback ratio is
    -- fitted on (its own days, never another deployment's)
    select
        hourly.deployment_id,
        cast(hourly.hour_start as date) as usage_date,
        sum(gpu_time.prefill_gpu_seconds) as prefill_seconds,
        sum(gpu_time.decode_replica_seconds) as decode_seconds,
        sum(hourly.input_tokens - coalesce(hourly.cached_tokens, 0)) as uncached_input_tokens,
        sum(hourly.output_tokens) as output_tokens
    from {{ ref('int_requests__deployment_hourly') }} as hourly
    inner join gpu_time using (hour_start, deployment_id)
    group by all
    having sum(gpu_time.prefill_gpu_seconds) > 0 and sum(gpu_time.decode_replica_seconds) > 0
        and sum(hourly.input_tokens - coalesce(hourly.cached_tokens, 0)) > 0
        and sum(hourly.output_tokens) > 0
),

requests as (
    select hourly.*, gpu_time.prefill_gpu_seconds, gpu_time.e2e_seconds
    from {{ ref('int_requests__deployment_hourly') }} as hourly
    left join gpu_time using (hour_start, deployment_id)
    where hourly.deployment_id is not null
),

request_days as (
    select
        deployment_id,
        cast(hour_start as date) as usage_date,
        coalesce(sum(input_tokens), 0) as input_tokens,
        coalesce(sum(output_tokens), 0) as output_tokens,
        coalesce(sum(input_tokens - coalesce(cached_tokens, 0)), 0) as uncached_input_tokens,
        sum(prefill_gpu_seconds) as prefill_seconds,
        sum(e2e_seconds) as e2e_seconds
    from requests
    group by all
),

fitted_weights as (
    -- per day without timings: the deployment's decode-token weight over its 28 days before
    select
        d.deployment_id,
        d.usage_date,
        (sum(f.decode_seconds) / sum(f.output_tokens))
        / (sum(f.prefill_seconds) / sum(f.uncached_input_tokens)) as decode_token_weight
    from request_days as d
    inner join fit_days as f
        on d.deployment_id = f.deployment_id
        and f.usage_date >= d.usage_date - 28 and f.usage_date < d.usage_date
    where coalesce(d.e2e_seconds, 0) = 0
    group by d.deployment_id, d.usage_date
),

day_shares as (
    select
        request_days.*,
        case
            when e2e_seconds > 0 then 'gpu_time'
            when input_tokens + output_tokens > 0 and w.decode_token_weight is not null
                then 'token_ratio'
            when input_tokens + output_tokens > 0 then 'token_ratio_default'
            else 'none'
        end as split_method,
        case
            when e2e_seconds > 0 then prefill_seconds / e2e_seconds
            when uncached_input_tokens + output_tokens > 0
                then uncached_input_tokens / (
                    uncached_input_tokens
                    + coalesce(w.decode_token_weight, {{ var('decode_token_weight') }})
                    * output_tokens
                )
        end as day_prefill_share
    from request_days
    left join fitted_weights as w
        on request_days.deployment_id = w.deployment_id
        and request_days.usage_date = w.usage_date
)
{%- endmacro %}
