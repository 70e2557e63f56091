{{ config(tags=['daily']) }}

{#- The rate to USD of every (currency, billing period) billed: the configured rate valid on
    the period's first day, 1 for USD. Models that write _usd columns multiply the bill's
    DECIMAL amounts by it (exact: DECIMAL(38,12) x DECIMAL(20,10)) and round to 10^-12 once
    per sum; allocation itself stays in the billing currency. A billed currency without a
    rate (the config changed after the bill was ingested, which checks it) fails this model's
    not_null test, so the marts are never built with that bill missing from them. -#}

with billed as (
    select distinct billing_currency, billing_period
    from {{ ref('int_billing__line_items') }}
),

rates as (
    select * from {{ ref('stg_billing__fx_rates_usd') }}
),

final as (
    select
        billed.billing_currency,
        billed.billing_period,
        case
            when billed.billing_currency = 'USD' then cast(1 as decimal(20, 10))
            else rates.usd_per_unit
        end as usd_per_unit
    from billed
    left join rates
        on billed.billing_currency = rates.currency
        and billed.billing_period >= rates.valid_from
        and (rates.valid_to is null or billed.billing_period < rates.valid_to)
)

select * from final
