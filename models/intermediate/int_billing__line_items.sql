{{ config(tags=['daily']) }}

{#- Every billing line allocation reads: the cloud exports (stg_billing__line_items) and the
    on-prem hosts' billing-like lines (int_onprem__line_items), in the same columns. -#}

select * from {{ ref('stg_billing__line_items') }}
union all by name
select * exclude (usage_date) from {{ ref('int_onprem__line_items') }}
