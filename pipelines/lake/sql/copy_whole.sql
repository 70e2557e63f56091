-- A raw table written whole (snapshots, and billing, which is replaced by billing period).
copy (select * from {table}) to {target} (format parquet, compression zstd)
