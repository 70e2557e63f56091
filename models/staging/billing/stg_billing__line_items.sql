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
    cost is never counted twice; without an origin the split rows are the charge and count.
    Only split rows and the rows sharing their key are looked at, each read from the table
    itself (a CTE read three times would be materialised whole): a bill without a split
    (every CUR, FOCUS before 1.3) costs hash joins against empty tables. -#}
{%- set charge_key = ['delivery_id', 'billing_account_id', 'resource_id', 'charge_period_start',
    'charge_period_end', 'charge_category', 'billing_currency'] %}

split_rows as (
    select
        source_file,
        source_line,
        {{ charge_key | join(', ') }},
        -- the split rows of one charge re-state one instance-hour: GPU time once (the first)
        row_number() over (
            partition by {{ charge_key | join(', ') }} order by source_file, source_line
        ) > 1 as split_restates_usage
    from {{ source('billing', 'billing_line_items') }}
    where allocated_method_id is not null
),

origins as (
    -- each split charge's origin: its first row (by file and line) without AllocatedMethodId
    select {{ charge_key | join(', ') }}, origin_file, origin_line
    from (
        select
            {% for c in charge_key %}source.{{ c }}, {% endfor %}
            source.source_file as origin_file,
            source.source_line as origin_line,
            row_number() over (
                partition by {% for c in charge_key %}source.{{ c }}{% if not loop.last %}, {% endif %}{% endfor %}
                order by source.source_file, source.source_line
            ) as origin_rank
        from {{ source('billing', 'billing_line_items') }} as source
        inner join (select distinct {{ charge_key | join(', ') }} from split_rows) as split_keys
            on {% for c in charge_key %}source.{{ c }} = split_keys.{{ c }}{% if not loop.last %} and {% endif %}{% endfor %}
        where source.allocated_method_id is null
    ) as ranked
    where origin_rank = 1
),

marked as (
    select
        source.*,
        case
            when source.allocated_method_id is not null and source.allocated_resource_id is null
                then 'unallocated'
            when source.allocated_method_id is not null then 'allocated'
            when source_origin.delivery_id is not null then 'origin'
        end as split_cost_role,
        split_origin.origin_file as split_origin_source_file,
        split_origin.origin_line as split_origin_source_line,
        coalesce(split_rows.split_restates_usage, false) as split_restates_usage
    from source
    left join split_rows
        on source.source_file = split_rows.source_file
        and source.source_line = split_rows.source_line
    -- a split row's origin charge
    left join origins as split_origin
        on split_rows.source_line is not null
        and {% for c in charge_key %}source.{{ c }} = split_origin.{{ c }}{% if not loop.last %}
        and {% endif %}{% endfor %}
    -- a row that is the origin of a split
    left join origins as source_origin
        on source.allocated_method_id is null
        and source.source_file = source_origin.origin_file
        and source.source_line = source_origin.origin_line
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
        {{ seconds_between('charge_period_start', 'charge_period_end') }} / 3600.0 as charge_hours,
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
