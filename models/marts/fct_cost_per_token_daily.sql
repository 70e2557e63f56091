{{
    config(
        materialized='incremental',
        incremental_strategy='replace_window',
        tags=['daily'],
        meta={'billing_window_column': 'usage_date'}
    )
}}

{#- The actual cost of a token. Per deployment-hour the effective (amortized) USD cost is split
    between prefill and decode by GPU time, the one split unitcost uses everywhere
    (fct_efficiency_daily and the weekly report read these columns):
      gpu_time      share = prefill / (prefill + decode) replica-seconds of the hour
                    (int_requests__gpu_time_hourly: per replica, 1/concurrency, prefill as
                    compute without queue wait); an hour with no timed requests (e.g. idle)
                    takes the day's ratio. Prefix-cache hits need no correction here: they
                    already shorten prefill.
      token_ratio   no timings that day: share = uncached input tokens /
                    (uncached input + w × output tokens), w fitted on the deployment's own
                    days with timings in the 28 days before (decode s per output token ÷
                    prefill s per uncached input token);
      token_ratio_default  no such days either: w = var('decode_token_weight');
      none          no tokens that day: cost is kept, per-token prices are NULL.
    Known bias: the split follows request counts inside a shared step (not FLOP vs byte
    time), and a log without queue time or engine metrics charges queue wait to prefill only
    up to the cost model's prefill time (int_requests__phases); docs/cost-split.md.
    Cost bases (as OpenCost): allocation = busy + idle GPU cost + claimed non-GPU cost;
    usage = busy GPU cost only. Money in USD: each piece of a bill is converted at its billing
    period's rate (int_billing__usd_rates; 1 for USD, so a USD bill is unchanged), summed per
    deployment-hour and rounded to 10^-12 there, before the split (RELIABILITY case 8). -#}

with usd_rates as (
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
        cast(null as timestamptz) as hour_start,
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
