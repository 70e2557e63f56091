{{
    config(
        materialized='incremental',
        incremental_strategy='replace_window',
        tags=['daily'],
        meta={'billing_window_column': 'usage_date'}
    )
}}

{#- What prefix caching saved, per deployment and UTC day.

    A cached prompt token skips prefill: its KV comes from the cache, not from compute. The
    day's actual prefill cost (fct_cost_per_token_daily, usage basis: the busy GPU time, split
    by GPU time between prefill and decode) was spent on the uncached input tokens only, so
      usd per computed input token = prefill cost / (input - cached tokens)
      prefix_cache_saved_usd       = prefill cost × cached / (input - cached tokens)
    the prefill GPU cost the cached tokens would have spent at the day's own price. Linear:
    it ignores that a long prompt's attention costs more per token than a short one's.
    Tokens from the request logs; the engine's hit rate from vLLM's counters beside them.
    Rebuilt over the billing window, as the cost it prices (a restated bill re-prices days). -#}

with hourly as (
    select * from {{ ref('int_prefix_cache__hourly') }}
    where hour_start >= {{ billing_window_start() }} and hour_start < {{ billing_window_end() }}
),

tokens as (
    select
        deployment_id,
        cast(hour_start as date) as usage_date,
        sum(input_tokens) as input_tokens,
        sum(cached_tokens) as cached_tokens,
        sum(engine_queried_tokens) as engine_queried_tokens,
        sum(engine_hit_tokens) as engine_hit_tokens,
        sum(engine_counter_resets) as engine_counter_resets
    from hourly
    group by all
),

prefill as (
    select usage_date, deployment_id, llm_id, input_cost_usd, split_method
    from {{ ref('fct_cost_per_token_daily') }}
    where cost_basis = 'usage' and {{ in_billing_window('usage_date') }}
),

days as (
    select
        coalesce(tokens.usage_date, prefill.usage_date) as usage_date,
        coalesce(tokens.deployment_id, prefill.deployment_id) as deployment_id,
        prefill.llm_id,
        cast(coalesce(tokens.input_tokens, 0) as bigint) as input_tokens,
        cast(coalesce(tokens.cached_tokens, 0) as bigint) as cached_tokens,
        cast(tokens.engine_queried_tokens as bigint) as engine_queried_tokens,
        cast(tokens.engine_hit_tokens as bigint) as engine_hit_tokens,
        cast(coalesce(tokens.engine_counter_resets, 0) as bigint) as engine_counter_resets,
        prefill.input_cost_usd,
        prefill.split_method
    from tokens
    full outer join prefill
        on tokens.deployment_id = prefill.deployment_id and tokens.usage_date = prefill.usage_date
),

final as (
    select
        usage_date,
        deployment_id,
        llm_id,
        input_tokens,
        cached_tokens,
        input_tokens - cached_tokens as uncached_input_tokens,
        round(cached_tokens / nullif(input_tokens, 0), 9) as cached_share,
        engine_queried_tokens,
        engine_hit_tokens,
        round(engine_hit_tokens / nullif(engine_queried_tokens, 0), 9) as engine_hit_rate,
        engine_counter_resets,
        cast(input_cost_usd as decimal(38, 12)) as prefill_cost_usd,
        {{ usd_per_1m('input_cost_usd', 'input_tokens - cached_tokens') }}
            as usd_per_1m_computed_input_tokens,
        case when input_tokens - cached_tokens > 0 then
            {{ exact_share('input_cost_usd', 'cached_tokens', 'input_tokens - cached_tokens') }}
        end as prefix_cache_saved_usd,
        split_method
    from days
)

select * from final
