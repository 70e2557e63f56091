"""Telemetry ingest: DCGM exporter scrapes and vLLM engine metrics, one UTC day at a time.

``load.load_day`` writes a day into the raw tables inside the caller's transaction. Parquet is
read, checked and deduplicated by DuckDB in place (``sources``); Prometheus text, CSV and
Parquet DuckDB cannot read as-is go through the polars readers (``exposition``,
``long_format``) one file at a time (``staging``). The rules are SQL: ``samples`` (DCGM
checks), ``engine_metrics`` (vLLM), ``dedupe`` (HA copies), ``scrapes`` (wide rows),
``threshold``; ``counts`` and ``day_counts`` record what every sample became, per file, for
``raw.ingest_ledger``. No dagster here.
"""
