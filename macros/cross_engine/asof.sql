{#- int_requests__tenant_hourly's `shares`: each request segment [from_us, to_us) gets the
    replica-day's running GPU share C(to) - C(from) (`gpu_units`, in the running sum's units),
    C(t) being the running sum (`running.share_units`, whole units) of the last stretch that
    starts strictly before t (none: 0).
    Both join a replica-day by its integer stream_id (three string keys made DuckDB's ASOF
    joins several times slower). DuckDB: two ASOF joins. Spark SQL has no ASOF join: the
    segment bounds and the running rows are put in one order per replica-day (at one instant
    a bound before a stretch that starts there, for the strict "before"), and each bound
    takes the last running value seen, a sort instead of a range join. -#}
{% macro segment_shares() -%}
    {{ return(adapter.dispatch('segment_shares', 'unitcost')()) }}
{%- endmacro %}

{% macro default__segment_shares() -%}
    select
        s.request_source,
        s.request_id,
        s.deployment_id,
        s.hour_index,
        cast(coalesce(b.share_units, 0) - coalesce(a.share_units, 0) as bigint) as gpu_units
    from segments as s
    -- C(t): the running sum of the last stretch starting before t (none: 0)
    asof left join running as a
        on s.stream_id = a.stream_id
        and s.from_us > a.start_us
    asof left join running as b
        on s.stream_id = b.stream_id
        and s.to_us > b.start_us
{%- endmacro %}

{% macro spark__segment_shares() -%}
    select
        request_source,
        request_id,
        deployment_id,
        hour_index,
        cast(
            coalesce(max(c) filter (where bound = 'to'), 0)
            - coalesce(max(c) filter (where bound = 'from'), 0)
            as bigint
        ) as gpu_units
    from (
        select
            *,
            last(share_units, true) over (
                partition by stream_id
                order by t, is_stretch
                rows between unbounded preceding and current row
            ) as c
        from (
            {%- for bound in ['from', 'to'] %}
            select
                request_source, request_id, deployment_id, stream_id, hour_index,
                '{{ bound }}' as bound, {{ bound }}_us as t, 0 as is_stretch,
                cast(null as double) as share_units
            from segments
            union all
            {%- endfor %}
            select
                null, null, null, stream_id, null, null, start_us, 1, share_units
            from running
        )
    )
    where is_stretch = 0
    group by request_source, request_id, deployment_id, hour_index
{%- endmacro %}
