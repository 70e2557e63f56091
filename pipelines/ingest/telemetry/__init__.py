"""Telemetry ingest: DCGM exporter scrapes and vLLM engine metrics, as pure polars.

Readers (``exposition``, ``long_format``) turn Prometheus text and long/wide exports into one
long sample frame; ``samples`` checks and deduplicates DCGM samples, ``scrapes`` pivots them
into the wide ``raw.dcgm_samples`` rows; ``engine_metrics`` keeps vLLM's series long;
``counts`` records what every sample read became, per file, for ``raw.ingest_ledger``.
No dagster here.
"""
