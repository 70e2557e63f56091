{{ config(severity='error', tags=['daily'], meta={'dagster': {'ref': {'name': 'fct_cost_allocation_daily'}}}) }}

{#- Rule 8, zero tolerance: per billing account, period and currency, allocated + idle +
    unallocated = billed, for billed and effective cost, over every period the mart holds.
    Any row returned fails the build, so nothing downstream reads an unbalanced allocation. -#}

with billed as (
    select
        billing_account_id, billing_period, billing_currency,
        sum(billed_cost) as billed_cost, sum(effective_cost) as effective_cost
    from {{ ref('int_billing__line_items') }}
    group by all
),

allocated as (
    select
        billing_account_id, billing_period, billing_currency,
        sum(billed_cost) as billed_cost, sum(effective_cost) as effective_cost
    from {{ ref('fct_cost_allocation_daily') }}
    group by all
)

select
    billing_account_id, billing_period, billing_currency,
    allocated.billed_cost, allocated.effective_cost,
    billed.billed_cost as bill_billed_cost,
    billed.effective_cost as bill_effective_cost
from allocated
full outer join billed using (billing_account_id, billing_period, billing_currency)
{#- Both comparisons are parenthesised: AND binds tighter than OR, and without the brackets an
    effective-cost mismatch bypassed the window test, so a billed period outside the window
    that allocation never built (e.g. the FOCUS sample's single October row on a September
    run) failed the build. -#}
where (allocated.billing_period is not null or {{ in_billing_window('billing_period') }})
    and (
        allocated.billed_cost is distinct from billed.billed_cost
        or allocated.effective_cost is distinct from billed.effective_cost
    )
