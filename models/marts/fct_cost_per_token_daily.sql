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

with {{ cost_split_ctes() }},

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
