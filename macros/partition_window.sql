{#- The half-open day window [min_date, max_date) a daily model rebuilds.
    Half-open, never BETWEEN: an inclusive end once made an I/O manager delete the next
    partition (RELIABILITY.md, Dagster).

    Where the window comes from, first found wins:
    1. `--vars '{min_date: ..., max_date: ...}'`: dbt unit tests and `dbt build` by hand;
    2. UNITCOST_DBT_MIN_DATE / UNITCOST_DBT_MAX_DATE in dbt's environment: Dagster's daily
       assets (pipelines/assets/dbt.py). Read only while executing (`execute`), never while
       parsing: dbt re-parses the whole project when `--vars` change, and re-parses a file
       whose parse read an env_var that changed, so a window read here leaves every run's
       partial parse valid;
    3. neither: from the earliest registry date up to tomorrow. -#}
{% macro window_day(name) -%}
    {%- set value = var(name) -%}
    {%- if not value and execute -%}
        {%- set value = env_var('UNITCOST_DBT_' ~ name | upper, '') -%}
    {%- endif -%}
    {%- if value and not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', value | string) -%}
        {{ exceptions.raise_compiler_error(
            name ~ " must be a YYYY-MM-DD date, got '" ~ value ~ "'") }}
    {%- endif -%}
    {{ return(value | string if value else none) }}
{%- endmacro %}

{% macro window_start() -%}
    {%- set day = window_day('min_date') -%}
    {%- if day -%} cast('{{ day }}' as date)
    {%- else -%} (select min(valid_from) from {{ ref('stg_registry__deployments') }})
    {%- endif -%}
{%- endmacro %}

{% macro window_end() -%}
    {%- set day = window_day('max_date') -%}
    {%- if day -%} cast('{{ day }}' as date)
    {%- else -%} (current_date + 1)
    {%- endif -%}
{%- endmacro %}

{% macro in_window(column) -%}
    ({{ column }} >= {{ window_start() }} and {{ column }} < {{ window_end() }})
{%- endmacro %}
