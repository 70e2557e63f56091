{{ config(tags=['daily']) }}

{#- Which commitment paid for each deployment's GPU-hours: int_allocation__gpu_hours summed per
    UTC day, deployment (NULL: nobody held them), instance and commitment (NULL: on demand),
    with the commitment's kind and end from the billing lines that name it. A view: the
    recommendation engine reads a window of it, so nothing here is stored twice.
    A commitment's type and category are the same on all its lines; its end is taken as the
    latest any line states (an export may leave it off some line types). Costs stay in the
    bill's currency; billing_period is kept so a reader converts each row at its period's
    rate (int_billing__usd_rates). -#}

with gpu_hours as (
    select * from {{ ref('int_allocation__gpu_hours') }}
),

commitment_lines as (
    select
        commitment_discount_id,
        commitment_discount_type,
        commitment_discount_category,
        commitment_discount_end
    from {{ ref('int_billing__line_items') }}
    where commitment_discount_id is not null
),

commitments as (
    select
        commitment_discount_id,
        min(commitment_discount_type) as commitment_discount_type,
        min(commitment_discount_category) as commitment_discount_category,
        max(commitment_discount_end) as commitment_discount_end
    from commitment_lines
    group by commitment_discount_id
),

final as (
    select
        g.usage_date,
        g.billing_account_id,
        g.billing_period,
        g.billing_currency,
        g.deployment_id,
        g.resource_id,
        g.instance_type,
        g.gpu_type,
        g.commitment_discount_id,
        c.commitment_discount_type,
        c.commitment_discount_category,
        c.commitment_discount_end,
        sum(g.gpu_hours) as gpu_hours,
        sum(g.billed_cost) as billed_cost,
        sum(g.effective_cost) as effective_cost
    from gpu_hours as g
    left join commitments as c on g.commitment_discount_id = c.commitment_discount_id
    group by all
)

select * from final
