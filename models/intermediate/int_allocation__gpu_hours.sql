{{
    config(
        materialized='incremental',
        incremental_strategy='replace_window',
        tags=['daily'],
        meta={'billing_days_from': 'int_billing__cost_pieces'}
    )
}}

{#- Each billed GPU-hour piece with the deployment(s) that held it and how busy it was.
    Assignment: the claims on (resource_id, gpu_index), else the whole-instance claim, valid
    on the piece's day. A MIG-sliced GPU goes to its slices' holders by compute slices of 7
    (telescoped, so the parts sum exactly to the piece); slices nobody claims are a remainder
    row with no deployment. Busy share: telemetry busy_seconds / observed_seconds of that
    GPU-hour (of the slice, under MIG), in ppm so the split is exact: allocated = cost × busy,
    idle = the rest. A GPU-hour with no telemetry, or with samples but no utilisation signal,
    is allocated whole and flagged unobserved: there is no evidence it idled. Unassigned GPU-hours are unallocated.
    Rebuilds the partition window's days and the days whose bill changed since it was built
    (macros/allocation.sql, billing_days_to_rebuild), like int_billing__cost_pieces: a day's
    allocation reads that day's pieces and telemetry only. -#}

with rebuild as (
    {{ billing_days_to_rebuild(this, 'int_billing__cost_pieces') }}
),

pieces as (
    select {{ star_except('p', ['billing_fingerprint']) }}, r.billing_fingerprint
    from {{ ref('int_billing__cost_pieces') }} as p
    inner join rebuild as r
        on p.billing_period = r.billing_period and p.usage_date = r.usage_date
    where p.piece_kind = 'gpu'
),

assignments as (
    select * from {{ ref('int_allocation__gpu_assignments') }}
),

telemetry as (
    select
        hour_start, host, gpu_index, gpu_instance_id,
        -- the key a billed part joins on: -1 for the whole GPU (summed over its slices), the
        -- slice's id for a MIG slice (ids are 0-14), NULL for a GPU without MIG (its whole
        -- row is the -1 one)
        if(grouping(gpu_instance_id) = 1, -1, gpu_instance_id) as instance_key,
        sum(busy_seconds) as busy_seconds,
        -- Only seconds with a utilisation signal measure how busy a GPU was: an hour with
        -- samples but neither GR_ENGINE_ACTIVE nor GPU_UTIL (MIG without profiling metrics)
        -- has NULL busy_seconds, and counting its seconds as observed made it 100 % busy
        -- (least(1.0, NULL) is 1.0). It is unobserved, like an hour without telemetry; and
        -- in an hour where only some minutes have a signal, only those minutes measure it
        -- (dividing by every observed second read such hours busy too low).
        -- (Hours rolled up before busy_observed_seconds existed read as they always did.)
        sum(coalesce(busy_observed_seconds, observed_seconds)) filter (
            where busy_seconds is not null
        ) as observed_seconds
    from {{ ref('int_telemetry__gpu_hourly') }}
    -- the rebuilt days' hours only, not the warehouse's whole history
    where cast(hour_start as date) in (select usage_date from rebuild)
    group by grouping sets (
        (hour_start, host, gpu_index, gpu_instance_id), (hour_start, host, gpu_index)
    )
),

by_index as (
    select p.line_key, p.slice_start, p.gpu_index, a.deployment_id, a.llm_id, a.gpu_instance_id,
        a.slices
    from pieces as p
    inner join assignments as a
        on p.resource_id = a.resource_id
        and p.gpu_index = a.gpu_index
        and p.usage_date >= a.valid_from
        and (a.valid_to is null or p.usage_date < a.valid_to)
),

whole as (
    select p.line_key, p.slice_start, p.gpu_index, a.deployment_id, a.llm_id, a.gpu_instance_id,
        a.slices
    from pieces as p
    inner join assignments as a
        on p.resource_id = a.resource_id
        and a.gpu_index is null
        and p.usage_date >= a.valid_from
        and (a.valid_to is null or p.usage_date < a.valid_to)
    anti join by_index as b
        on p.line_key = b.line_key and p.slice_start = b.slice_start and p.gpu_index = b.gpu_index
),

claims as (
    select
        *,
        sum(slices) over (
            partition by line_key, slice_start, gpu_index
            order by gpu_instance_id nulls first rows unbounded preceding
        ) as cum_slices
    from (select * from by_index union all select * from whole)
),

claimed as (
    select line_key, slice_start, gpu_index, sum(slices) as slices
    from claims
    group by all
),

parts as (
    select
        {{ star_except('p', ['billed_cost', 'effective_cost', 'gpu_hours']) }},
        c.deployment_id, c.llm_id, c.gpu_instance_id,
        p.gpu_hours * c.slices / 7 as gpu_hours,
        {{ exact_share('p.billed_cost', 'c.cum_slices', 7) }}
        - {{ exact_share('p.billed_cost', 'c.cum_slices - c.slices', 7) }} as billed_cost,
        {{ exact_share('p.effective_cost', 'c.cum_slices', 7) }}
        - {{ exact_share('p.effective_cost', 'c.cum_slices - c.slices', 7) }} as effective_cost
    from pieces as p
    inner join claims as c
        on p.line_key = c.line_key and p.slice_start = c.slice_start
        and p.gpu_index = c.gpu_index
    union all
    select
        {{ star_except('p', ['billed_cost', 'effective_cost', 'gpu_hours']) }},
        null as deployment_id, null as llm_id, null as gpu_instance_id,
        p.gpu_hours * (7 - coalesce(k.slices, 0)) / 7 as gpu_hours,
        p.billed_cost - {{ exact_share('p.billed_cost', 'coalesce(k.slices, 0)', 7) }},
        p.effective_cost - {{ exact_share('p.effective_cost', 'coalesce(k.slices, 0)', 7) }}
    from pieces as p
    left join claimed as k
        on p.line_key = k.line_key and p.slice_start = k.slice_start
        and p.gpu_index = k.gpu_index
    where coalesce(k.slices, 0) < 7
),

hosts as (
    select distinct resource_id, host from assignments where host is not null
),

observed as (
    select
        parts.*,
        hosts.host,
        telemetry.observed_seconds > 0 as telemetry_observed,
        round(least(1.0, coalesce(telemetry.observed_seconds, 0) / 3600.0), 6)
            as telemetry_coverage,
        case
            when parts.deployment_id is null then 0
            when telemetry.observed_seconds > 0 then cast(round(1000000 * least(
                1.0, telemetry.busy_seconds / telemetry.observed_seconds
            )) as bigint)
            else 1000000
        end as busy_ppm
    from parts
    left join hosts on parts.resource_id = hosts.resource_id
    left join telemetry
        on hosts.host = telemetry.host
        and parts.gpu_index = telemetry.gpu_index
        and parts.slice_start = telemetry.hour_start
        -- a slice reads its own row; a whole GPU the row summed over all its slices. An
        -- equality, not an OR of cases: a left join whose condition is not all comparisons
        -- is a nested loop (a month's first build at 1,024 GPUs spent minutes in it)
        and coalesce(parts.gpu_instance_id, -1) = telemetry.instance_key
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
        gpu_instance_id,
        host,
        commitment_discount_id,
        deployment_id,
        llm_id,
        coalesce(telemetry_observed, false) as telemetry_observed,
        telemetry_coverage,
        {{ as_double('busy_ppm') }} / 1000000.0 as busy_fraction,
        gpu_hours,
        billed_cost,
        effective_cost,
        {{ exact_share('billed_cost', 'busy_ppm', 1000000) }} as busy_billed_cost,
        {{ exact_share('effective_cost', 'busy_ppm', 1000000) }} as busy_effective_cost,
        line_key,
        billing_fingerprint
    from observed
)

select * from final
