{{
    config(
        materialized='incremental',
        incremental_strategy='replace_window',
        tags=['daily'],
        meta={'billing_window_column': 'usage_date'}
    )
}}

{#- Cost per tenant: each deployment-day's cost, on both cost bases, split among the tenants
    whose requests it served, by the one split fct_cost_per_token_daily uses
    (macros/cost_split.sql, docs/cost-split.md):
      gpu_time      each deployment-hour's cost by the tenants' GPU time in that hour
                    (int_requests__tenant_hourly: 1/concurrency shares of the same sweep); an
                    hour without timed requests, and the day's claimed non-GPU cost, by the
                    tenants' GPU time over the day;
      token_ratio / token_ratio_default   no timings that day: by uncached input + w × output
                    tokens, w the day's decode-token weight (fitted, else the default);
      none          no requests that day: all of it to 'unattributed'.
    Requests whose log names no tenant are the tenant 'unattributed' (stg_requests). Exact:
    each cost row is split in integer pico-dollars, tenant i (in name order) taking
    share(cumulative weight through i) - share(cumulative weight before i), so the tenants of
    a row add up to it exactly and a deployment-day's tenants to fct_cost_per_token_daily's
    cost_usd (tested). Known bias: the split's own (docs/cost-split.md); idle cost goes to
    the tenants who used the deployment that day, in proportion to their use. -#}

with {{ cost_split_ctes() }},

tenant_hours as (
    select
        *,
        cast(hour_start as date) as usage_date,
        coalesce(input_tokens - coalesce(cached_tokens, 0), 0) as uncached_input_tokens
    from {{ ref('int_requests__tenant_hourly') }}
    where {{ in_billing_window('cast(hour_start as date)') }}
),

tenant_days as (
    select
        deployment_id,
        usage_date,
        tenant,
        sum(requests) as requests,
        coalesce(sum(input_tokens), 0) as input_tokens,
        coalesce(sum(output_tokens), 0) as output_tokens,
        sum(uncached_input_tokens) as uncached_input_tokens,
        sum(gpu_us) as gpu_us
    from tenant_hours
    group by all
),

timed_hours as (
    select deployment_id, hour_start
    from tenant_hours
    group by all
    having sum(gpu_us) > 0
),

cost_rows as (
    select
        costs.deployment_id,
        costs.llm_id,
        costs.usage_date,
        costs.hour_start,
        coalesce(day_shares.split_method, 'none') as split_method,
        day_shares.split_method = 'gpu_time' and timed_hours.hour_start is not null
            as by_hour,
        costs.allocation_cost,
        costs.usage_cost
    from costs
    left join day_shares
        on costs.deployment_id = day_shares.deployment_id
        and costs.usage_date = day_shares.usage_date
    left join timed_hours
        on costs.deployment_id = timed_hours.deployment_id
        and costs.hour_start = timed_hours.hour_start
),

day_weights as (
    select
        d.deployment_id,
        d.usage_date,
        d.tenant,
        case
            when s.split_method = 'gpu_time' then cast(d.gpu_us as {{ t_wide_int() }})
            -- tokens × 1000: the weight w is fractional
            else cast(round(1000 * (
                d.uncached_input_tokens
                + coalesce(w.decode_token_weight, {{ var('decode_token_weight') }})
                * d.output_tokens
            )) as {{ t_wide_int() }})
        end as weight
    from tenant_days as d
    inner join day_shares as s
        on d.deployment_id = s.deployment_id and d.usage_date = s.usage_date
    left join fitted_weights as w
        on d.deployment_id = w.deployment_id and d.usage_date = w.usage_date
    where s.split_method <> 'none'
),

weighted as (
    -- by the hour's tenants, else the day's; a row nobody has weight in: unattributed
    select
        r.*,
        coalesce(h.tenant, d.tenant, 'unattributed') as tenant,
        coalesce(cast(h.gpu_us as {{ t_wide_int() }}), d.weight, 1) as weight
    from cost_rows as r
    left join tenant_hours as h
        on r.by_hour
        and r.deployment_id = h.deployment_id
        and r.hour_start = h.hour_start
        and h.gpu_us > 0
    left join day_weights as d
        on not r.by_hour
        and r.deployment_id = d.deployment_id
        and r.usage_date = d.usage_date
        and d.weight > 0
),

bases as (
    select *, 'allocation' as cost_basis, allocation_cost as cost_usd from weighted
    union all
    select *, 'usage' as cost_basis, usage_cost as cost_usd from weighted
),

cumulative as (
    select
        *,
        sum(weight) over (
            partition by deployment_id, usage_date, hour_start, cost_basis
            order by tenant
            rows between unbounded preceding and current row
        ) as weight_through,
        sum(weight) over (partition by deployment_id, usage_date, hour_start, cost_basis)
            as weight_total
    from bases
),

shares as (
    select
        usage_date,
        deployment_id,
        llm_id,
        cost_basis,
        tenant,
        split_method,
        {{ pico_div(to_pico('cost_usd') ~ ' * weight_through', 'weight_total') }}
        - {{ pico_div(to_pico('cost_usd') ~ ' * (weight_through - weight)', 'weight_total') }}
            as cost_pico
    from cumulative
),

tenant_costs as (
    select
        usage_date,
        deployment_id,
        cost_basis,
        tenant,
        any_value(llm_id) as llm_id,
        any_value(split_method) as split_method,
        {{ from_pico('sum(cost_pico)') }} as cost_usd
    from shares
    group by usage_date, deployment_id, cost_basis, tenant
),

-- every tenant of a costed deployment-day, a tenant without weight (no timed requests on a
-- gpu_time day) with 0
deployment_days as (
    select usage_date, deployment_id, cost_basis,
        any_value(llm_id) as llm_id, any_value(split_method) as split_method
    from tenant_costs
    group by all
),

keys as (
    select usage_date, deployment_id, cost_basis, tenant from tenant_costs
    union
    select dd.usage_date, dd.deployment_id, dd.cost_basis, td.tenant
    from deployment_days as dd
    inner join tenant_days as td
        on dd.deployment_id = td.deployment_id and dd.usage_date = td.usage_date
),

final as (
    select
        k.usage_date,
        k.deployment_id,
        dd.llm_id,
        k.cost_basis,
        k.tenant,
        cast(coalesce(td.requests, 0) as bigint) as requests,
        cast(coalesce(td.gpu_us, 0) as double) / 1e6 as gpu_seconds,
        cast(coalesce(td.input_tokens, 0) as bigint) as input_tokens,
        cast(coalesce(td.output_tokens, 0) as bigint) as output_tokens,
        coalesce(tc.cost_usd, cast(0 as decimal(38, 12))) as cost_usd,
        dd.split_method
    from keys as k
    inner join deployment_days as dd
        on k.usage_date = dd.usage_date
        and k.deployment_id = dd.deployment_id
        and k.cost_basis = dd.cost_basis
    left join tenant_costs as tc
        on k.usage_date = tc.usage_date
        and k.deployment_id = tc.deployment_id
        and k.cost_basis = tc.cost_basis
        and k.tenant = tc.tenant
    left join tenant_days as td
        on k.usage_date = td.usage_date
        and k.deployment_id = td.deployment_id
        and k.tenant = td.tenant
)

select * from final
