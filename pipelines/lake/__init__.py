"""The Parquet lake: the raw tables dbt reads, also written as Parquet so that a second engine
(Spark, through dbt's spark target) reads the same rows as DuckDB, from a local folder or S3.

Layout (the contract with the Spark target, docs/scale-out.md):
``{root}/raw/{table}/day=YYYY-MM-DD/part-0.parquet`` for the tables that carry a UTC day
(hive-partitioned: ``day`` is in the path, not in the file), ``{root}/raw/{table}/part-0.parquet``
for the others. Column names and types are the DuckDB ``raw`` table's (money DECIMAL(38,12),
timestamps UTC). No dagster here: ``pipelines/assets/lake.py`` calls ``export_window``.
"""
