{{ config(tags=['daily']) }}

{#- Reserved GPU capacity, used and unused, in USD per UTC day: one row per day, billing
    account, capacity reservation and instance type. FOCUS 1.1+ bills a capacity reservation's
    idle part on its own lines (CapacityReservationStatus 'Unused'); those lines are part of
    the bill allocation conserves (they land as unallocated GPU cost in
    fct_cost_allocation_daily, no deployment holding the reservation), and here they are
    named. Costs are effective (amortized) cost, converted at the billing period's rate
    (int_billing__usd_rates) and rounded once per sum. A line is counted on the UTC day its
    charge period starts (FOCUS capacity-reservation lines are hourly). GPU-hours: the line's
    PricingQuantity when priced in hours (instance-hours), else its charge period, times the
    instance type's GPUs. -#}

with lines as (
    select * from {{ ref('int_billing__line_items') }}
    where capacity_reservation_id is not null and charge_category = 'Usage'
),

instance_types as (
    select * from {{ ref('stg_billing__instance_types') }}
),

rates as (
    select * from {{ ref('int_billing__usd_rates') }}
),

priced as (
    select
        cast(lines.charge_period_start as date) as usage_date,
        lines.billing_account_id,
        lines.capacity_reservation_id,
        lines.instance_type,
        instance_types.gpu_id as gpu_type,
        instance_types.gpus_per_instance,
        lines.capacity_reservation_status,
        lines.effective_cost * rates.usd_per_unit as effective_cost_usd,
        case
            when lines.pricing_unit in ('Hours', 'Hour', 'Hrs') and lines.pricing_quantity is not null
                then lines.pricing_quantity
            else cast(lines.charge_hours as decimal(38, 15))
        end * instance_types.gpus_per_instance as gpu_hours
    from lines
    left join instance_types on lines.instance_type = instance_types.instance_type
    left join rates
        on lines.billing_currency = rates.billing_currency
        and lines.billing_period = rates.billing_period
),

final as (
    select
        usage_date,
        billing_account_id,
        capacity_reservation_id,
        instance_type,
        any_value(gpu_type) as gpu_type,
        any_value(gpus_per_instance) as gpus_per_instance,
        cast(coalesce(sum(effective_cost_usd) filter (where capacity_reservation_status = 'Used'), 0)
            as decimal(38, 12)) as used_cost_usd,
        cast(coalesce(sum(effective_cost_usd) filter (where capacity_reservation_status = 'Unused'), 0)
            as decimal(38, 12)) as unused_cost_usd,
        cast(coalesce(sum(gpu_hours) filter (where capacity_reservation_status = 'Used'), 0)
            as decimal(38, 6)) as used_gpu_hours,
        cast(coalesce(sum(gpu_hours) filter (where capacity_reservation_status = 'Unused'), 0)
            as decimal(38, 6)) as unused_gpu_hours,
        count(*) as line_count
    from priced
    group by usage_date, billing_account_id, capacity_reservation_id, instance_type
)

select
    *,
    -- a ratio, not money: DOUBLE on both engines (a DECIMAL quotient is DECIMAL(38,18) on Spark)
    cast(if(used_cost_usd + unused_cost_usd = 0, null,
        unused_cost_usd / (used_cost_usd + unused_cost_usd)) as double) as unused_cost_share
from final
