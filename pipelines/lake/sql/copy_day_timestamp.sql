-- One UTC day of a raw table whose day is a timestamp column: [day, day + 1), never BETWEEN
-- (it would take the next day's first instant). The table and column placeholders are
-- quoted identifiers; the target is the file as a quoted string literal, because COPY takes
-- no prepared file name next to other parameters (DuckDB 1.5.5 fails with an internal
-- error). pipelines/lake/paths.py builds it from the configured root and fixed names.
copy (
    select * from {table} where {column} >= ? and {column} < ?
) to {target} (format parquet, compression zstd)
