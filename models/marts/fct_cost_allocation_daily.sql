{{
    config(
        materialized='incremental',
        incremental_strategy='replace_window',
        tags=['daily'],
        meta={'billing_window_column': 'billing_period'}
    )
}}

{#- Where every billed dollar went, per day. GPU-hours split into allocated (busy share) and
    idle (the rest) for the deployment holding them, or unallocated when none does. Non-GPU
    lines (volumes, egress, fees, credits, tax, support) go to a deployment only when it
    claims their resource id (registry cloud_resource_ids); otherwise they are unallocated.
    Nothing is dropped: per account, period and currency the rows sum to the bill exactly. -#}

with gpu as (
    select * from {{ ref('int_allocation__gpu_hours') }}
    where {{ in_billing_window('billing_period') }}
),

other as (
    select * from {{ ref('int_billing__cost_pieces') }}
    where piece_kind <> 'gpu' and {{ in_billing_window('billing_period') }}
),

claims as (
    select * from {{ ref('int_allocation__gpu_assignments') }}
    where gpu_index is null
),

gpu_parts as (
    select
        usage_date, billing_account_id, billing_period, billing_currency,
        if(deployment_id is null, 'unallocated', 'allocated') as allocation_kind,
        deployment_id, llm_id,
        if(deployment_id is null, gpu_hours, gpu_hours * busy_fraction) as gpu_hours,
        if(deployment_id is not null and not telemetry_observed, gpu_hours, 0)
            as unobserved_gpu_hours,
        if(deployment_id is null, billed_cost, busy_billed_cost) as billed_cost,
        if(deployment_id is null, effective_cost, busy_effective_cost) as effective_cost,
        true as is_gpu
    from gpu
    where deployment_id is null or busy_fraction > 0
    union all
    select
        usage_date, billing_account_id, billing_period, billing_currency,
        'idle' as allocation_kind,
        deployment_id, llm_id,
        gpu_hours * (1 - busy_fraction) as gpu_hours,
        0 as unobserved_gpu_hours,
        billed_cost - busy_billed_cost as billed_cost,
        effective_cost - busy_effective_cost as effective_cost,
        true as is_gpu
    from gpu
    where deployment_id is not null and busy_fraction < 1
),

other_parts as (
    select
        other.usage_date, other.billing_account_id, other.billing_period,
        other.billing_currency,
        if(claims.deployment_id is null, 'unallocated', 'allocated') as allocation_kind,
        claims.deployment_id, claims.llm_id,
        0 as gpu_hours,
        0 as unobserved_gpu_hours,
        other.billed_cost,
        other.effective_cost,
        false as is_gpu
    from other
    left join claims
        on other.resource_id = claims.resource_id
        and other.usage_date >= claims.valid_from
        -- an open end as infinity, not IS NULL OR: a left join stays a hash join only when
        -- every condition is a comparison
        and other.usage_date < coalesce(claims.valid_to, cast('infinity' as date))
),

parts as (
    select * from gpu_parts
    union all
    select * from other_parts
),

final as (
    select
        usage_date,
        billing_account_id,
        billing_period,
        billing_currency,
        allocation_kind,
        deployment_id,
        any_value(llm_id) as llm_id,
        cast(round(sum(gpu_hours), 9) as double) as gpu_hours,
        cast(round(sum(unobserved_gpu_hours), 9) as double) as unobserved_gpu_hours,
        cast(sum(billed_cost) as decimal(38, 12)) as billed_cost,
        cast(sum(effective_cost) as decimal(38, 12)) as effective_cost,
        cast(coalesce(sum(billed_cost) filter (where is_gpu), 0) as decimal(38, 12))
            as gpu_billed_cost,
        cast(coalesce(sum(effective_cost) filter (where is_gpu), 0) as decimal(38, 12))
            as gpu_effective_cost
    from parts
    group by all
)

select * from final
