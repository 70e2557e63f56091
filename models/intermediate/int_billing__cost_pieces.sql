{{
    config(
        materialized='incremental',
        incremental_strategy='replace_window',
        tags=['daily'],
        meta={'billing_days_from': 'int_billing__line_items'}
    )
}}

{#- Every billing line of the window's periods cut into pieces whose costs telescope exactly
    to the line's (see macros/allocation.sql):
      gpu     GPU instance usage: one piece per UTC hour it overlaps × GPU of the instance;
      usage   other usage (volumes, egress, ...): one piece per UTC day it overlaps;
      period  everything else (commitment fees, credits, refunds, tax, support, zero-length
              lines): one piece on the period's first day, kept at period level.
    A FOCUS 1.3 split row after the first of its charge carries cost, not GPU time.
    Overlap is weighted in milliseconds, so partial hours and lines spanning days pro-rate.
    Only the days whose lines changed since this table was built, and the partition window's,
    are cut again (macros/allocation.sql, billing_days_to_rebuild); a line's weights are still
    taken over its whole charge period, so a rebuilt day's pieces are the same as in a full
    build. -#}

with rebuild as (
    {{ billing_days_to_rebuild(this, 'int_billing__line_items') }}
),

lines as (
    select
        *,
        row_number() over (order by delivery_id, source_file, source_line) as line_key
    from {{ ref('int_billing__line_items') }}
    where {{ in_billing_window('billing_period') }}
),

instance_types as (
    select * from {{ ref('stg_billing__instance_types') }}
),

classified as (
    select
        lines.*,
        instance_types.gpu_id as gpu_type,
        case
            when lines.charge_period_end <= lines.charge_period_start
                or lines.charge_period_start is null
                or lines.charge_category <> 'Usage' then 'period'
            when instance_types.gpus_per_instance > 0 then 'gpu'
            else 'usage'
        end as piece_kind,
        case
            when instance_types.gpus_per_instance > 0 then instance_types.gpus_per_instance
            else 1
        end as units
    from lines
    left join instance_types on lines.instance_type = instance_types.instance_type
),

slices as (
    select
        *,
        {{ unnest_series(
            "date_trunc(if(piece_kind = 'gpu', 'hour', 'day'), charge_period_start)",
            'charge_period_end - interval 1 microsecond',
            "if(piece_kind = 'gpu', interval 1 hour, interval 1 day)"
        ) }} as slice_start
    from classified
    where piece_kind <> 'period'
),

slice_weights as (
    select
        *,
        {{ diff_ms(
            'greatest(charge_period_start, slice_start)',
            "least(charge_period_end, slice_start + if(piece_kind = 'gpu', interval 1 hour, interval 1 day))"
        ) }} as overlap_ms
    from slices
),

slice_cumulative as (
    select
        *,
        sum(overlap_ms) over (partition by line_key order by slice_start) - overlap_ms
            as before_ms,
        sum(overlap_ms) over (partition by line_key) as line_ms
    from slice_weights
),

unit_pieces as (
    select
        *,
        {{ unnest_series('0', 'units - 1', '1') }} as unit_index
    from slice_cumulative
    -- after the line's weights: they are over all its slices, rebuilt or not
    where {{ pair_in(['billing_period', 'cast(slice_start as date)'],
        ['billing_period', 'usage_date'], 'rebuild') }}
),

timed_pieces as (
    select
        *,
        -- cumulative weight after / before this piece, over line_ms × units
        before_ms * units + (unit_index + 1) * overlap_ms as cum_end,
        before_ms * units + unit_index * overlap_ms as cum_start,
        line_ms * units as cum_total
    from unit_pieces
),

pieces as (
    select
        line_key, billing_source, billing_account_id, billing_period, billing_currency,
        charge_category, line_item_type, resource_id, instance_type, gpu_type, piece_kind,
        commitment_discount_id,
        units as gpus_per_instance,
        if(piece_kind = 'gpu', unit_index, null) as gpu_index,
        slice_start,
        -- a Savings Plan negation line re-states the same instance-hour: cost, not GPU time;
        -- so do an on-prem host's energy and overhead lines (macros/onprem.sql)
        if(
            piece_kind = 'gpu' and coalesce(line_item_type, '') not ilike '%negation%'
            and coalesce(line_item_type, '') not in {{ onprem_cost_only_line_types() }}
            -- the 2nd+ row of a FOCUS 1.3 split re-states the 1st's instance-hour
            and not coalesce(split_restates_usage, false),
            {{ as_double('overlap_ms') }} / 3600000.0,
            0
        )
            as gpu_hours,
        {{ exact_share('billed_cost', 'cum_end', 'cum_total') }}
        - {{ exact_share('billed_cost', 'cum_start', 'cum_total') }} as billed_cost,
        {{ exact_share('effective_cost', 'cum_end', 'cum_total') }}
        - {{ exact_share('effective_cost', 'cum_start', 'cum_total') }} as effective_cost,
        source_file,
        source_line
    from timed_pieces
    union all
    select
        line_key, billing_source, billing_account_id, billing_period, billing_currency,
        charge_category, line_item_type, resource_id, instance_type, gpu_type, piece_kind,
        commitment_discount_id,
        units as gpus_per_instance,
        null as gpu_index,
        cast(billing_period as {{ t_timestamptz() }}) as slice_start,
        0 as gpu_hours,
        billed_cost,
        effective_cost,
        source_file,
        source_line
    from classified
    where piece_kind = 'period'
),

final as (
    select
        cast(p.slice_start as date) as usage_date,
        p.slice_start,
        {{ star_except('p', ['slice_start']) }},
        r.billing_fingerprint
    from pieces as p
    inner join rebuild as r
        on p.billing_period = r.billing_period and cast(p.slice_start as date) = r.usage_date
)

select * from final
