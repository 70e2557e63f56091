{{ config(tags=['daily']) }}

{#- Every billing line allocation reads: the cloud exports (stg_billing__line_items) and the
    on-prem hosts' billing-like lines (int_onprem__line_items), in the same columns. A FOCUS
    1.3 split row delivered beside its origin charge is not counted (counted_in_totals): the
    origin carries the cost. -#}

{{ union_all_by_name(ref('stg_billing__line_items'), ref('int_onprem__line_items'), ['usage_date'],
    first_where='counted_in_totals') }}
