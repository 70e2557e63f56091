"""Request logs (vLLM gateway JSONL, LiteLLM spend logs, Azure and Mooncake traces) into
``raw.inference_requests``: an allow-list reader, validation, dedup and salted user hashes.

Pure polars and DuckDB: no dagster here (``pipelines/assets/requests.py`` wraps it).
"""
