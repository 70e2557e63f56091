{#- Incremental strategy `replace_window`: delete the rows of the window this run rebuilds, then
    insert the new ones, both in the materialisation's one transaction, so a killed or failed
    build leaves the previous rows (RELIABILITY case 37).

    Not a pre_hook delete: hooks run before dbt adds a model's new columns (on_schema_change),
    and DuckDB cannot commit a transaction that alters a table after deleting from it
    (duckdb/duckdb#20570), so every warehouse built by an earlier version failed its next run.

    The window is the model's meta, rendered at run time with that run's window
    (macros/partition_window.sql): `window_column` (the partition's day window, in_window),
    `billing_window_column` (whole billing periods, in_billing_window) or `billing_days_from`
    (the billing window's days whose fingerprint in that upstream changed, and the partition
    window's: in_billing_days_to_rebuild, macros/allocation.sql). -#}
{% macro get_incremental_replace_window_sql(arg_dict) -%}
    {%- set predicate = replace_window_predicate(arg_dict['target_relation']) -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    delete from {{ arg_dict['target_relation'] }} where {{ predicate }};
    insert into {{ arg_dict['target_relation'] }} ({{ columns }})
    select {{ columns }} from {{ arg_dict['temp_relation'] }}
{%- endmacro %}

{#- The rows of `target_relation` this run's window replaces: a boolean SQL expression over
    its columns, from the model's meta (above). Also the Spark Parquet rewrite's (its rows
    where this is not true are kept: macros/cross_engine/spark_incremental.sql). -#}
{% macro replace_window_predicate(target_relation) -%}
    {%- set meta = config.get('meta') or {} -%}
    {%- if meta.get('window_column') -%}
        {{ return(in_window(meta['window_column'])) }}
    {%- elif meta.get('billing_window_column') -%}
        {{ return(in_billing_window(meta['billing_window_column'])) }}
    {%- elif meta.get('billing_days_from') -%}
        {{ return(in_billing_days_to_rebuild(target_relation, meta['billing_days_from'])) }}
    {%- else -%}
        {{ exceptions.raise_compiler_error(
            "incremental_strategy 'replace_window' needs meta.window_column, "
            ~ "meta.billing_window_column or meta.billing_days_from") }}
    {%- endif -%}
{%- endmacro %}
