-- One UTC day of a raw table whose day is a DATE column (the quarantines' partition_day).
copy (
    select * from {table} where {column} = ?
) to {target} (format parquet, compression zstd)
