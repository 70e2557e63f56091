"""Telemetry ingest: DCGM exporter scrapes and vLLM engine metrics, as pure polars.

Readers (``exposition``, ``long_format``) turn Prometheus text and long/wide exports into one
long sample frame; ``samples`` deduplicates, pivots and validates DCGM samples into the wide
``raw.dcgm_samples`` rows; ``engine_metrics`` keeps vLLM's series long. No dagster here.
"""
