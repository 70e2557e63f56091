-- A table dbt built on Spark, as a DuckDB view over its Parquet files (pipelines/lake/
-- spark_tables.py). {view} is a quoted "schema"."name"; {files} the folder's *.parquet as a
-- quoted literal (CREATE VIEW takes no prepared parameters). Spark's _SUCCESS and .crc files
-- are not *.parquet. Bound when created: a folder without Parquet files fails here.
create or replace view {view} as select * from read_parquet({files})
