{#- Model contracts on Spark: the marts' yml declares DuckDB's types (varchar, varchar[],
    timestamptz, ...), which Spark SQL does not parse, and dbt checks a contract by casting
    NULL to each declared type. On the spark adapter the check is skipped; the columns are
    still selected by their contracted names, in order (get_select_subquery), and the Spark
    equality test (tests/integration/test_spark_equality.py) compares every mart's columns
    and values with the contract-checked DuckDB build. -#}
{% macro spark__get_assert_columns_equivalent(sql) -%}
{%- endmacro %}
