{{ config(tags=['daily']) }}

{#- A view, tagged daily so it is (re)built after the daily billing ingest. Billing periods
    are replaced whole, so a view (not a day-window table) is always the current bill. -#}

with source as (
    select * from {{ source('billing', 'billing_line_items') }}
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
        {{ seconds_between('charge_period_start', 'charge_period_end') }} / 3600.0 as charge_hours
    from source
)

select * from final
