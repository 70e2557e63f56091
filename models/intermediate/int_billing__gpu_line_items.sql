{{ config(tags=['daily']) }}

{#- GPU instance usage only: a usage line whose instance type carries GPUs. CUR SP negation
    lines are kept (signed) so billed cost nets to what was invoiced for the instance. A line
    may span days (hourly lines never do, daily or monthly ones can): allocation splits it. -#}

with lines as (
    select * from {{ ref('stg_billing__line_items') }}
),

instance_types as (
    select * from {{ ref('stg_billing__instance_types') }}
),

final as (
    select
        lines.delivery_id,
        lines.billing_source,
        lines.billing_account_id,
        lines.billing_period,
        lines.billing_currency,
        lines.resource_id,
        lines.instance_type,
        instance_types.gpu_id as gpu_type,
        instance_types.gpus_per_instance,
        lines.charge_period_start as usage_start,
        lines.charge_period_end as usage_end,
        lines.charge_hours as usage_hours,
        -- a FOCUS 1.3 split row after the first of its charge re-states its GPU time
        if(lines.split_restates_usage, 0, lines.charge_hours * instance_types.gpus_per_instance)
            as gpu_hours,
        lines.line_item_type,
        lines.commitment_discount_id,
        lines.billed_cost,
        lines.effective_cost,
        lines.list_cost,
        lines.source_file,
        lines.source_line
    from lines
    inner join instance_types on lines.instance_type = instance_types.instance_type
    where lines.charge_category = 'Usage'
        and lines.counted_in_totals  -- a split row beside its origin charge is not counted
)

select * from final
