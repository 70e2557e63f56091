{#- The half-open day window [min_date, max_date) a daily model rebuilds.
    Half-open, never BETWEEN: an inclusive end once made an I/O manager delete the next
    partition (RELIABILITY.md, Dagster). -#}
{% macro window_start() -%}
    {%- if var('min_date') -%} cast('{{ var("min_date") }}' as date)
    {%- else -%} (select min(valid_from) from {{ ref('stg_registry__deployments') }})
    {%- endif -%}
{%- endmacro %}

{% macro window_end() -%}
    {%- if var('max_date') -%} cast('{{ var("max_date") }}' as date)
    {%- else -%} (current_date + 1)
    {%- endif -%}
{%- endmacro %}

{% macro in_window(column) -%}
    ({{ column }} >= {{ window_start() }} and {{ column }} < {{ window_end() }})
{%- endmacro %}
