{#- One integer per replica-day (deployment_id, replica_key, arrival_day) of `relation`: the
    sweep sorts each one's events apart, the tenant split joins its running shares by it.
    Numbered in that order, so a window's ids are the same on every run and engine; an id
    means something inside one query only (another window numbers its own). -#}
{% macro replica_day_streams(relation) -%}
    select
        deployment_id,
        replica_key,
        arrival_day,
        cast(row_number() over (order by deployment_id, replica_key, arrival_day) as integer)
            as stream_id
    from {{ relation }}
    group by deployment_id, replica_key, arrival_day
{%- endmacro %}
