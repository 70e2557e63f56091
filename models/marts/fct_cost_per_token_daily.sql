{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        tags=['daily'],
        pre_hook="{% if is_incremental() %}delete from {{ this }} where usage_date >= {{ billing_window_start() }} and usage_date < {{ billing_window_end() }}{% endif %}"
    )
}}

{#- The actual cost of a token. Per deployment-hour the effective (amortized) USD cost is split
    between prefill and decode by GPU time:
      gpu_time     share = prefill / (prefill + decode) GPU-seconds of the hour, each request's
                   TTFT and E2E - TTFT weighted by 1/concurrency (int_requests__gpu_time_hourly);
                   an hour with no timed requests (e.g. idle) takes the day's ratio. Prefix-
                   cache hits need no correction here: they already shorten TTFT.
      token_ratio  no timings that day: share = uncached input tokens /
                   (uncached input + var('decode_token_weight') × output tokens);
      none         no tokens that day: cost is kept, per-token prices are NULL.
    Cost bases (as OpenCost): allocation = busy + idle GPU cost + claimed non-GPU cost;
    usage = busy GPU cost only. USD only: other currencies need a dated conversion rate. -#}

with gpu as (
    select
        deployment_id,
        any_value(llm_id) as llm_id,
        usage_date,
        hour_start,
        sum(busy_effective_cost) as usage_cost,
        sum(effective_cost) as allocation_cost
    from {{ ref('int_allocation__gpu_hours') }}
    where deployment_id is not null and billing_currency = 'USD'
        and {{ in_billing_window('billing_period') }}
    group by all
),

other as (
    -- claimed non-GPU cost per day; it has no hour, so it takes the day's ratio
    select
        deployment_id,
        any_value(llm_id) as llm_id,
        usage_date,
        cast(null as timestamptz) as hour_start,
        cast(0 as decimal(38, 12)) as usage_cost,
        sum(effective_cost) - sum(gpu_effective_cost) as allocation_cost
    from {{ ref('fct_cost_allocation_daily') }}
    where allocation_kind = 'allocated' and billing_currency = 'USD'
        and {{ in_billing_window('billing_period') }}
    group by all
    having sum(effective_cost) <> sum(gpu_effective_cost)
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
        prefill_gpu_seconds,
        prefill_gpu_seconds + decode_gpu_seconds as e2e_seconds
    from {{ ref('int_requests__gpu_time_hourly') }}
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

day_shares as (
    select
        *,
        case
            when e2e_seconds > 0 then 'gpu_time'
            when input_tokens + output_tokens > 0 then 'token_ratio'
            else 'none'
        end as split_method,
        case
            when e2e_seconds > 0 then prefill_seconds / e2e_seconds
            when uncached_input_tokens + output_tokens > 0
                then uncached_input_tokens / (
                    uncached_input_tokens + {{ var('decode_token_weight') }} * output_tokens
                )
        end as day_prefill_share
    from request_days
),

hour_costs as (
    select
        costs.*,
        coalesce(day_shares.split_method, 'none') as split_method,
        cast(round(1000000 * case
            when day_shares.split_method = 'gpu_time' and requests.e2e_seconds > 0
                then requests.prefill_gpu_seconds / requests.e2e_seconds
            else day_shares.day_prefill_share
        end) as bigint) as prefill_ppm
    from costs
    left join day_shares
        on costs.deployment_id = day_shares.deployment_id
        and costs.usage_date = day_shares.usage_date
    left join requests
        on costs.deployment_id = requests.deployment_id
        and costs.hour_start = requests.hour_start
),

bases as (
    select
        deployment_id, llm_id, usage_date, split_method, prefill_ppm,
        'allocation' as cost_basis, allocation_cost as cost_usd
    from hour_costs
    union all
    select
        deployment_id, llm_id, usage_date, split_method, prefill_ppm,
        'usage' as cost_basis, usage_cost as cost_usd
    from hour_costs
),

days as (
    select
        usage_date,
        deployment_id,
        any_value(llm_id) as llm_id,
        cost_basis,
        any_value(split_method) as split_method,
        cast(sum(cost_usd) as decimal(38, 12)) as cost_usd,
        cast(sum({{ exact_share('cost_usd', 'prefill_ppm', 1000000) }}) as decimal(38, 12))
            as input_cost_usd
    from bases
    group by usage_date, deployment_id, cost_basis
),

final as (
    select
        days.usage_date,
        days.deployment_id,
        days.llm_id,
        days.cost_basis,
        cast(coalesce(day_shares.input_tokens, 0) as bigint) as input_tokens,
        cast(coalesce(day_shares.output_tokens, 0) as bigint) as output_tokens,
        days.cost_usd,
        days.input_cost_usd,
        cast(days.cost_usd - days.input_cost_usd as decimal(38, 12)) as output_cost_usd,
        {{ usd_per_1m('days.input_cost_usd', 'day_shares.input_tokens') }}
            as usd_per_1m_input_tokens,
        {{ usd_per_1m('days.cost_usd - days.input_cost_usd', 'day_shares.output_tokens') }}
            as usd_per_1m_output_tokens,
        days.split_method
    from days
    left join day_shares
        on days.deployment_id = day_shares.deployment_id
        and days.usage_date = day_shares.usage_date
)

select * from final
