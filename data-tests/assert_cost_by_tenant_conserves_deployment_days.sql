{{ config(severity='error', tags=['daily'], meta={'dagster': {'ref': {'name': 'fct_cost_by_tenant_daily'}}}) }}

{#- Cost per tenant is conserved: per deployment-day and cost basis the tenants add up to
    fct_cost_per_token_daily.cost_usd exactly (both sum the same deployment-hour costs), and
    to the deployment's rows of fct_cost_allocation_daily, converted to USD at their
    billing period's rate, to the cent (allocation: allocated + idle effective cost; usage:
    the allocated GPU effective cost). Rows returned fail the build. -#}

with tenants as (
    select usage_date, deployment_id, cost_basis, sum(cost_usd) as cost_usd
    from {{ ref('fct_cost_by_tenant_daily') }}
    group by all
),

per_token as (
    select usage_date, deployment_id, cost_basis, cost_usd
    from {{ ref('fct_cost_per_token_daily') }}
),

allocation as (
    select
        a.usage_date,
        a.deployment_id,
        sum(a.effective_cost * r.usd_per_unit) as allocation_usd,
        sum(a.gpu_effective_cost * r.usd_per_unit)
            filter (where a.allocation_kind = 'allocated') as usage_usd
    from {{ ref('fct_cost_allocation_daily') }} as a
    inner join {{ ref('int_billing__usd_rates') }} as r
        on a.billing_currency = r.billing_currency and a.billing_period = r.billing_period
    where a.deployment_id is not null and a.allocation_kind in ('allocated', 'idle')
    group by all
),

billed as (
    select usage_date, deployment_id, 'allocation' as cost_basis, allocation_usd as cost_usd
    from allocation
    union all
    select usage_date, deployment_id, 'usage', coalesce(usage_usd, 0) from allocation
)

select
    coalesce(t.usage_date, p.usage_date) as usage_date,
    coalesce(t.deployment_id, p.deployment_id) as deployment_id,
    coalesce(t.cost_basis, p.cost_basis) as cost_basis,
    t.cost_usd as tenants_usd,
    p.cost_usd as per_token_usd,
    b.cost_usd as allocation_usd
from tenants as t
full outer join per_token as p using (usage_date, deployment_id, cost_basis)
left join billed as b
    on b.usage_date = coalesce(t.usage_date, p.usage_date)
    and b.deployment_id = coalesce(t.deployment_id, p.deployment_id)
    and b.cost_basis = coalesce(t.cost_basis, p.cost_basis)
where t.cost_usd is distinct from p.cost_usd
    or abs(coalesce(t.cost_usd, 0) - coalesce(b.cost_usd, 0)) >= 0.005
