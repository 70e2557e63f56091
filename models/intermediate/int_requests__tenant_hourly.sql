{{
    config(
        materialized='incremental',
        incremental_strategy='replace_window',
        tags=['daily'],
        meta={'window_column': 'hour_start'}
    )
}}

{#- Each tenant's requests, tokens and GPU time per deployment per UTC hour: the weights that
    fct_cost_by_tenant_daily splits a deployment-hour's cost by.

    GPU time is the concurrency sweep's own (int_requests__replica_sweep), shared as
    int_requests__gpu_time_hourly shares it: each busy stretch of a replica's time goes
    1/concurrency to every request in flight on it, in the hour the stretch starts. Per
    replica-day the stretches, in time order, give a running sum C(t) = Σ span / n over the
    stretches starting before t; a request in flight over [a, b) holds exactly the stretches
    starting in [a, b) (stretches start at events, and its own start and finish are events),
    so its share is C(b) - C(a), taken per hour it spans (a, b cut at the hour's bounds). Over
    all requests these add up to the hour's busy_replica_seconds (tested).

    C is kept in integer units of 10⁻⁵ µs (each stretch's span / n rounded to one), summed as
    DOUBLE: exact in any order, since a replica-day holds at most 86,400 s = 8.64 × 10¹⁵
    units, under 2⁵³. The shares stay in units (BIGINT) until each tenant-hour's sum, rounded
    to whole µs once, so a re-run is bit-identical and both engines agree. Before, C was a
    DOUBLE sum of the fractions, whose last bits follow the engine's partition layout, and
    each request's share was rounded to µs: shares of n = 2 are often exactly k + ½ µs, so
    that rounding added ~180 µs per shared deployment-hour at 1,024 GPUs.

    A deployment-day whose requests name one tenant (all of a deployment without tenants in
    its logs) is not swept again: that tenant's GPU time is the split's busy time of each
    hour (int_requests__gpu_time_hourly), the same figure the shares add up to.

    requests and tokens are by arrival hour (as int_requests__deployment_hourly), gpu_seconds
    by the hour the GPU time was spent; unmapped requests are left out (no deployment). -#}

{%- set hour_us = 3600000000 %}
{%- set share_units_per_us = 100000 %}

with requests as (
    select request_source, request_id, deployment_id, tenant, arrival_ts,
        input_tokens, output_tokens, cached_tokens
    from {{ ref('int_requests__mapped') }}
    where {{ in_window('arrival_ts') }} and deployment_id is not null
),

-- Deployment-days whose requests name one tenant (every deployment without tenants in its
-- logs: all 'unattributed') need no sweep of their own: that tenant's GPU time is the
-- split's busy time itself. Only days shared by tenants are swept again below.
tenancy as (
    select
        deployment_id,
        cast(arrival_ts as date) as arrival_day,
        count(distinct tenant) as tenants,
        min(tenant) as tenant
    from requests
    group by all
),

shared_sweep as (
    select s.*
    from {{ ref('int_requests__replica_sweep') }} as s
    semi join tenancy as t
        on s.deployment_id = t.deployment_id and s.arrival_day = t.arrival_day and t.tenants > 1
    where {{ in_window('s.arrival_ts') }}
),

-- one integer per replica-day swept: the running sum's partition and the ASOF joins' key (on
-- three string keys the ASOF joins took 33 of the model's 54 s at 1,024 GPUs)
streams as (
    {{ replica_day_streams('shared_sweep') }}
),

sweep as (
    select s.*, st.stream_id
    from shared_sweep as s
    inner join streams as st using (deployment_id, replica_key, arrival_day)
),

-- the split's busy time per hour of a one-tenant deployment-day (its stretches start on the
-- day they were swept for: int_requests__replica_sweep), in whole µs as the shares below
one_tenant_gpu as (
    select
        g.hour_start,
        g.deployment_id,
        t.tenant,
        cast(round(g.busy_replica_seconds * 1e6) as bigint) as gpu_us
    from {{ ref('int_requests__gpu_time_hourly') }} as g
    inner join tenancy as t
        on g.deployment_id = t.deployment_id
        and cast(g.hour_start as date) = t.arrival_day
        and t.tenants = 1
    where {{ in_window('g.hour_start') }} and g.busy_replica_seconds > 0
),

stretches as (
    {%- for event in ['prefill_start', 'first_token', 'finish'] %}
    select
        stream_id,
        {{ 'coalesce(first_token_us, finish_us)' if event == 'first_token' else event ~ '_us' }}
            as start_us,
        {{ event }}_stretch_us as span_us,
        {{ event }}_n_prefill + {{ event }}_n_decode as n_in_flight
    from sweep
    where {{ event }}_stretch_us > 0
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

-- one stretch per start instant of a replica-day (only the last event at an instant is
-- followed by time), so the running sum has one order
running as (
    select
        stream_id,
        start_us,
        -- C(t) in 10⁻⁵ µs: integers, so the sum is exact in any order (see above)
        sum(round(cast(span_us as double) * {{ share_units_per_us }} / n_in_flight)) over (
            partition by stream_id
            order by start_us
            rows between unbounded preceding and current row
        ) as share_units
    from stretches
),

-- each request's life cut at hour bounds: [from_us, to_us) inside one hour
segments as (
    select
        request_source,
        request_id,
        deployment_id,
        stream_id,
        hour_index,
        greatest(prefill_start_us, hour_index * {{ hour_us }}) as from_us,
        least(finish_us, (hour_index + 1) * {{ hour_us }}) as to_us
    from (
        select
            *,
            {{ unnest_range(
                int_div('prefill_start_us', hour_us),
                int_div('finish_us - 1', hour_us) ~ ' + 1'
            ) }} as hour_index
        from sweep
        where finish_us > prefill_start_us
    )
),

shares as (
    {{ segment_shares() }}
),

gpu as (
    select
        {{ timestamp_from_us('s.hour_index * ' ~ hour_us) }} as hour_start,
        s.deployment_id,
        r.tenant,
        cast(round(sum(s.gpu_units) / {{ share_units_per_us }}) as bigint) as gpu_us
    from shares as s
    -- the requests of shared days only: probing with every request of the window cost more
    -- than the sweep's shares themselves
    inner join (
        select r.request_source, r.request_id, r.tenant
        from requests as r
        semi join tenancy as t
            on r.deployment_id = t.deployment_id
            and cast(r.arrival_ts as date) = t.arrival_day
            and t.tenants > 1
    ) as r
        on s.request_source = r.request_source and s.request_id = r.request_id
    group by all
    having sum(s.gpu_units) > 0
    union all
    select * from one_tenant_gpu
),

tokens as (
    select
        date_trunc('hour', arrival_ts) as hour_start,
        deployment_id,
        tenant,
        count(*) as requests,
        sum(input_tokens) as input_tokens,
        sum(output_tokens) as output_tokens,
        sum(cached_tokens) as cached_tokens
    from requests
    group by all
),

final as (
    select
        coalesce(t.hour_start, g.hour_start) as hour_start,
        coalesce(t.deployment_id, g.deployment_id) as deployment_id,
        coalesce(t.tenant, g.tenant) as tenant,
        cast(coalesce(t.requests, 0) as bigint) as requests,
        cast(t.input_tokens as bigint) as input_tokens,
        cast(t.output_tokens as bigint) as output_tokens,
        cast(t.cached_tokens as bigint) as cached_tokens,
        cast(coalesce(g.gpu_us, 0) as bigint) as gpu_us,
        cast(coalesce(g.gpu_us, 0) as double) / 1e6 as gpu_seconds
    from tokens as t
    full outer join gpu as g
        on t.hour_start = g.hour_start
        and t.deployment_id = g.deployment_id
        and t.tenant = g.tenant
)

-- a request in flight at midnight adds a zero row for the next day's hour: not this window's
select * from final where {{ in_window('hour_start') }}
