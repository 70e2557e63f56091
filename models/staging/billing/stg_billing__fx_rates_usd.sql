{{ config(tags=['daily']) }}

{#- A view, tagged daily: the billing asset replaces raw.fx_rates_usd from unitcost.yaml on
    every run, before it ingests (the rates a bill was checked against are these). -#}

with source as (
    select * from {{ source('billing', 'fx_rates_usd') }}
),

final as (
    select
        currency,
        cast(valid_from as date) as valid_from,
        cast(valid_to as date) as valid_to,
        cast(usd_per_unit as decimal(20, 10)) as usd_per_unit
    from source
)

select * from final
