{#- On Spark the dbt sources are the raw Parquet lake that the ingest writes beside (or instead
    of) DuckDB's raw schema: {lake_root}/raw/{table}/ holds a table's files, hive-partitioned
    by UTC day (day=YYYY-MM-DD/) for the tables that carry a day. Run as on-run-start: on the
    spark adapter only it creates the `raw` schema and one external Parquet table per source
    (its schema read from the files); DuckDB
    reads its own raw schema and this does nothing there. A table already registered is left
    as it is: Spark lists a table's folder on every read, so new days are seen without it.
    The files are read recursively (recursiveFileLookup): a table declared without partition
    columns would otherwise read only the files at its root, none for a day-partitioned one.
    The rows carry their own timestamps, so the `day=` folder value is not needed; the cost
    is that Spark does not prune days by folder (the lake's day partitions serve other
    readers). -#}
{% macro register_lake_sources() -%}
    {{ return(adapter.dispatch('register_lake_sources', 'unitcost')()) }}
{%- endmacro %}

{% macro default__register_lake_sources() -%}
{%- endmacro %}

{% macro spark__register_lake_sources() -%}
    {%- if execute -%}
        {%- set lake_root = var('lake_root', none) or env_var('UNITCOST_LAKE_ROOT', '') -%}
        {%- if not lake_root -%}
            {{ exceptions.raise_compiler_error(
                "the spark target reads the raw Parquet lake: set var lake_root or "
                ~ "UNITCOST_LAKE_ROOT to the folder that holds raw/") }}
        {%- endif -%}
        {%- set lake_root = lake_root.rstrip('/') -%}
        {% do run_query('create schema if not exists raw') %}
        {#- only the sources the selected nodes read: the recommendation engine's tables
            reach the lake after the first pass (which excludes tag:recommend), and Spark
            cannot register a table over a folder that does not exist yet -#}
        {%- set needed = [] -%}
        {%- for uid in selected_resources -%}
            {%- for dep in graph.nodes.get(uid, {}).get('depends_on', {}).get('nodes', []) -%}
                {%- if dep.startswith('source.') and dep not in needed -%}
                    {%- do needed.append(dep) -%}
                {%- endif -%}
            {%- endfor -%}
        {%- endfor -%}
        {%- for source in graph.sources.values() | sort(attribute='unique_id') -%}
            {%- if source.schema == 'raw' and source.unique_id in needed -%}
                {% do run_query(
                    'create table if not exists raw.`' ~ source.identifier ~ '` using parquet'
                    ~ " options (recursiveFileLookup 'true')"
                    ~ " location '" ~ lake_root ~ '/raw/' ~ source.identifier ~ "'") %}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
