{{ config(tags=['daily']) }}

{#- A view, tagged daily so it is (re)built after the daily billing ingest. Billing periods
    are replaced whole, so a view (not a day-window table) is always the current bill. -#}

with source as (
    select * from {{ source('billing', 'billing_line_items') }}
),

{#- FOCUS 1.3 provider-calculated split cost allocation: a split row (AllocatedMethodId set)
    is one share of an origin charge, AllocatedResourceId naming what it went to (NULL: the
    unallocated share). An export may deliver the split beside its origin charge (same
    delivery, account, resource, charge period, category, currency, AllocatedMethodId NULL):
    then the origin counts and its split rows are kept for tracing but not counted, so the
    cost is never counted twice; without an origin the split rows are the charge and count. -#}
split_keys as (
    select distinct
        delivery_id, billing_account_id, resource_id, charge_period_start, charge_period_end,
        charge_category, billing_currency
    from source
    where allocated_method_id is not null and resource_id is not null
),

origins as (
    select
        delivery_id, billing_account_id, resource_id, charge_period_start, charge_period_end,
        charge_category, billing_currency,
        min(source_file) as origin_source_file,
        min(source_line) as origin_source_line
    from source
    where allocated_method_id is null and resource_id is not null
    group by all
),

marked as (
    select
        source.*,
        case
            when source.allocated_method_id is not null and source.allocated_resource_id is null
                then 'unallocated'
            when source.allocated_method_id is not null then 'allocated'
            when split_keys.delivery_id is not null then 'origin'
        end as split_cost_role,
        if(source.allocated_method_id is not null, origins.origin_source_file, null)
            as split_origin_source_file,
        if(source.allocated_method_id is not null, origins.origin_source_line, null)
            as split_origin_source_line,
        -- the split rows of one charge re-state one instance-hour: GPU time once (the first)
        source.allocated_method_id is not null and row_number() over (
            partition by
                source.allocated_method_id is not null, source.delivery_id,
                source.billing_account_id, source.resource_id, source.charge_period_start,
                source.charge_period_end, source.charge_category, source.billing_currency
            order by source.source_file, source.source_line
        ) > 1 as split_restates_usage
    from source
    left join split_keys
        on source.allocated_method_id is null
        and source.delivery_id = split_keys.delivery_id
        and source.billing_account_id = split_keys.billing_account_id
        and source.resource_id = split_keys.resource_id
        and source.charge_period_start = split_keys.charge_period_start
        and source.charge_period_end = split_keys.charge_period_end
        and source.charge_category = split_keys.charge_category
        and source.billing_currency = split_keys.billing_currency
    left join origins
        on source.allocated_method_id is not null
        and source.delivery_id = origins.delivery_id
        and source.billing_account_id = origins.billing_account_id
        and source.resource_id = origins.resource_id
        and source.charge_period_start = origins.charge_period_start
        and source.charge_period_end = origins.charge_period_end
        and source.charge_category = origins.charge_category
        and source.billing_currency = origins.billing_currency
),

final as (
    select
        delivery_id,
        billing_source,
        source_format,
        focus_version,
        billing_account_id,
        sub_account_id,
        provider_name,
        billing_period,
        billing_currency,
        charge_period_start,
        charge_period_end,
        charge_category,
        charge_class,
        charge_frequency,
        line_item_type,
        service_name,
        sku_or_usage_type,
        lower(instance_type) as instance_type,
        resource_id,
        region_id,
        commitment_discount_id,
        commitment_discount_type,
        commitment_discount_category,
        commitment_discount_end,
        billed_cost,
        effective_cost,
        list_cost,
        consumed_quantity,
        pricing_unit,
        tags_json,
        extra_columns_json,
        tz_assumed,
        source_file,
        source_line,
        epoch(charge_period_end - charge_period_start) / 3600.0 as charge_hours,
        host_provider_name,
        pricing_quantity,
        capacity_reservation_id,
        capacity_reservation_status,
        commitment_discount_status,
        commitment_discount_quantity,
        commitment_discount_unit,
        allocated_method_id,
        allocated_method_details_json,
        allocated_resource_id,
        allocated_resource_name,
        allocated_tags_json,
        contract_applied_json,
        commitment_program_eligibility_json,
        split_cost_role,
        split_origin_source_file,
        split_origin_source_line,
        split_origin_source_line is null as counted_in_totals,
        split_restates_usage
    from marked
)

select * from final
