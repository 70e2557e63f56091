{#- The project's one incremental strategy, `replace_window` (macros/replace_window.sql), on
    Spark. dbt-spark knows only append / merge / insert_overwrite / microbatch and refuses any
    other name, so its two strategy macros are taken over here (the root project's macros
    win over an adapter's) and pass the others through unchanged.
    A first build (or --full-refresh) is a plain CREATE TABLE AS on every file format. A
    later run deletes the window's rows and inserts the new ones, which needs a table format
    with DELETE (file_format delta or iceberg: Databricks, EMR with Iceberg); plain Parquet
    tables cannot delete rows, so there a model is rebuilt whole (`dbt build --full-refresh`)
    and an incremental run fails with that advice instead of duplicating rows. -#}
{% macro dbt_spark_validate_get_incremental_strategy(raw_strategy, file_format) %}
    {%- if raw_strategy == 'replace_window' -%}
        {% do return(raw_strategy) %}
    {%- endif -%}
    {%- if raw_strategy not in ['append', 'merge', 'insert_overwrite', 'microbatch'] -%}
        {% do exceptions.raise_compiler_error(
            "Invalid incremental strategy provided: " ~ raw_strategy) %}
    {%- endif -%}
    {%- if raw_strategy == 'merge' and file_format not in ['delta', 'iceberg', 'hudi'] -%}
        {% do exceptions.raise_compiler_error(
            "the merge strategy needs file_format delta, iceberg or hudi") %}
    {%- endif -%}
    {% do return(raw_strategy) %}
{% endmacro %}

{% macro dbt_spark_get_incremental_sql(
        strategy, source, target, existing, unique_key, incremental_predicates) %}
    {%- if strategy == 'replace_window' -%}
        {%- set file_format = config.get('file_format', default='parquet') -%}
        {%- if file_format not in ['delta', 'iceberg'] -%}
            {% do exceptions.raise_compiler_error(
                "replace_window on Spark deletes the window's rows, which " ~ file_format
                ~ " tables cannot: build " ~ target ~ " with --full-refresh, or set its"
                ~ " file_format to delta or iceberg") %}
        {%- endif -%}
        {%- set dest_columns = adapter.get_columns_in_relation(target) -%}
        {%- set arg_dict = {'target_relation': target, 'temp_relation': source,
                            'dest_columns': dest_columns} -%}
        {%- set statements = get_incremental_replace_window_sql(arg_dict).split(';') -%}
        {#- one statement per call: the session and Thrift cursors run one at a time -#}
        {% do run_query(statements[0]) %}
        {{ statements[1] }}
    {%- elif strategy == 'append' -%}
        {{ get_insert_into_sql(source, target) }}
    {%- elif strategy == 'insert_overwrite' -%}
        {{ get_insert_overwrite_sql(source, target, existing) }}
    {%- elif strategy == 'merge' -%}
        {%- set dest_columns = adapter.get_columns_in_relation(target) -%}
        {{ get_merge_sql(target, source, unique_key, dest_columns, incremental_predicates) }}
    {%- else -%}
        {% do exceptions.raise_compiler_error(
            "No known SQL for the incremental strategy provided: " ~ strategy) %}
    {%- endif -%}
{% endmacro %}
