"""Benchmarks: rows/s and peak RSS beside a raw-DuckDB baseline read of the same files."""
