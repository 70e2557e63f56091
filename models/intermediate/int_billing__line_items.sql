{{ config(tags=['daily']) }}

{#- Every billing line allocation reads: the cloud exports (stg_billing__line_items) and the
    on-prem hosts' billing-like lines (int_onprem__line_items), in the same columns. -#}

{{ union_all_by_name(ref('stg_billing__line_items'), ref('int_onprem__line_items'), ['usage_date']) }}
