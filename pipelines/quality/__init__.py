"""Data quality on the raw sources: Great Expectations suites and the ingest ledger.

No dagster here (the asset checks are ``pipelines/assets/quality.py``).
"""
