{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        tags=['daily'],
        pre_hook="{% if is_incremental() %}delete from {{ this }} where {{ in_billing_window('billing_period') }}{% endif %}"
    )
}}

{#- Each billed GPU-hour piece with the deployment that held it and how busy it was.
    Assignment: the claim on (resource_id, gpu_index), else the whole-instance claim, valid on
    the piece's day. Busy share: telemetry busy_seconds / observed_seconds of that GPU-hour
    (MIG slices summed), in ppm so the split is exact: allocated = cost × busy, idle = the
    rest. A GPU-hour with no telemetry is allocated whole and flagged unobserved: there is no
    evidence it idled. Unassigned GPU-hours are unallocated. -#}

with pieces as (
    select * from {{ ref('int_billing__cost_pieces') }}
    where piece_kind = 'gpu' and {{ in_billing_window('billing_period') }}
),

assignments as (
    select * from {{ ref('int_allocation__gpu_assignments') }}
),

telemetry as (
    select
        hour_start,
        host,
        gpu_index,
        sum(busy_seconds) as busy_seconds,
        sum(observed_seconds) as observed_seconds
    from {{ ref('int_telemetry__gpu_hourly') }}
    group by all
),

assigned as (
    select
        pieces.*,
        coalesce(exact.deployment_id, whole.deployment_id) as deployment_id,
        coalesce(exact.llm_id, whole.llm_id) as llm_id,
        coalesce(exact.host, whole.host) as host
    from pieces
    left join assignments as exact
        on pieces.resource_id = exact.resource_id
        and pieces.gpu_index = exact.gpu_index
        and pieces.usage_date >= exact.valid_from
        and (exact.valid_to is null or pieces.usage_date < exact.valid_to)
    left join assignments as whole
        on pieces.resource_id = whole.resource_id
        and whole.gpu_index is null
        and pieces.usage_date >= whole.valid_from
        and (whole.valid_to is null or pieces.usage_date < whole.valid_to)
),

observed as (
    select
        assigned.*,
        telemetry.observed_seconds > 0 as telemetry_observed,
        round(least(1.0, coalesce(telemetry.observed_seconds, 0) / 3600.0), 6)
            as telemetry_coverage,
        case
            when assigned.deployment_id is null then 0
            when telemetry.observed_seconds > 0 then cast(round(1000000 * least(
                1.0, telemetry.busy_seconds / telemetry.observed_seconds
            )) as bigint)
            else 1000000
        end as busy_ppm
    from assigned
    left join telemetry
        on assigned.host = telemetry.host
        and assigned.gpu_index = telemetry.gpu_index
        and assigned.slice_start = telemetry.hour_start
),

final as (
    select
        usage_date,
        slice_start as hour_start,
        billing_account_id,
        billing_period,
        billing_currency,
        resource_id,
        instance_type,
        gpu_type,
        gpus_per_instance,
        gpu_index,
        host,
        deployment_id,
        llm_id,
        coalesce(telemetry_observed, false) as telemetry_observed,
        telemetry_coverage,
        busy_ppm / 1000000.0 as busy_fraction,
        gpu_hours,
        billed_cost,
        effective_cost,
        {{ exact_share('billed_cost', 'busy_ppm', 1000000) }} as busy_billed_cost,
        {{ exact_share('effective_cost', 'busy_ppm', 1000000) }} as busy_effective_cost,
        line_key
    from observed
)

select * from final
