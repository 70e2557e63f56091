{#- The project's one incremental strategy, `replace_window` (macros/replace_window.sql), on
    Spark. dbt-spark knows only append / merge / insert_overwrite / microbatch and refuses any
    other name, so its two strategy macros are taken over here (the root project's macros
    win over an adapter's) and pass the others through unchanged.
    A first build (or --full-refresh) is a plain CREATE TABLE AS on every file format. A
    later run replaces the window's rows (the same predicate as DuckDB's delete,
    replace_window_predicate):
    - delta / iceberg (Databricks, EMR with Iceberg): DELETE the window, then INSERT;
    - plain Parquet (cannot DELETE): the table is rewritten. Its rows outside the window
      (predicate not true: false or NULL, exactly the rows DuckDB's delete keeps) and the new
      rows are written to a staging table, which then overwrites the table (Spark refuses to
      overwrite a table in a statement that reads it, and the new rows are a view over the
      model's SQL, which may read the table: is_incremental filters, billing_days_from), and
      is dropped. The cost: each incremental model's whole table is written twice per run.
      Not atomic: a run killed during the overwrite leaves the table short and the staging
      table (`<table>__replace_window`, in the schema's warehouse folder) holding its rows;
      the next run then stops at that model, naming both, rather than drop the staging table
      (docs/scale-out-spark.md). -#}
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
        {%- set dest_columns = adapter.get_columns_in_relation(target) -%}
        {%- if file_format in ['delta', 'iceberg'] -%}
            {%- set arg_dict = {'target_relation': target, 'temp_relation': source,
                                'dest_columns': dest_columns} -%}
            {%- set statements = get_incremental_replace_window_sql(arg_dict).split(';') -%}
            {#- one statement per call: the session and Thrift cursors run one at a time -#}
            {% do run_query(statements[0]) %}
            {{ statements[1] }}
        {%- elif file_format == 'parquet' -%}
            {{ spark_parquet_replace_window_sql(source, target, dest_columns) }}
        {%- else -%}
            {% do exceptions.raise_compiler_error(
                "replace_window on Spark needs file_format parquet, delta or iceberg, not "
                ~ file_format ~ " (" ~ target ~ ")") %}
        {%- endif -%}
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

{#- replace_window on a plain Parquet table: keep its rows outside the window, add the new
    ones, through a staging table (above). Runs the rewrite; returns the staging table's drop
    as the materialisation's main statement. -#}
{% macro spark_parquet_replace_window_sql(source, target, dest_columns) -%}
    {%- set staging = target.incorporate(
        path={'identifier': target.identifier ~ '__replace_window'}) -%}
    {%- set columns = get_quoted_csv(dest_columns | map(attribute='name')) -%}
    {%- set predicate = replace_window_predicate(target) -%}
    {#- A killed run's leftover: after a killed overwrite it may be the only copy of the
        table's rows, so never dropped here (the next rewrite would keep the short table's rows
        and lose the others for good). Managed: dropping it deletes its files. -#}
    {%- if adapter.get_relation(database=staging.database, schema=staging.schema,
                                identifier=staging.identifier) is not none -%}
        {% do exceptions.raise_compiler_error(
            staging ~ " exists: a run was killed while it rewrote " ~ target ~ ", and it may"
            ~ " hold that table's only complete copy. Restore it (insert overwrite table "
            ~ target ~ " select * from " ~ staging ~ ") or rebuild " ~ target
            ~ " with --full-refresh, then drop " ~ staging) %}
    {%- endif -%}
    {% call statement('replace_window_stage') -%}
        create table {{ staging }} using parquet as
        select {{ columns }} from {{ target }}
        where not coalesce({{ predicate }}, false)
        union all
        select {{ columns }} from {{ source }}
    {%- endcall %}
    {% call statement('replace_window_overwrite') -%}
        insert overwrite table {{ target }}
        select {{ columns }} from {{ staging }}
    {%- endcall %}
    drop table if exists {{ staging }}
{%- endmacro %}
