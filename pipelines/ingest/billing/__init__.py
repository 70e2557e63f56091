"""Cloud billing ingest: FOCUS 1.0-1.2 and AWS CUR 2.0, local or S3, exact money.

Pure logic (no dagster): ``load.ingest_billing`` is the entry point; the asset in
``pipelines/assets/billing.py`` only opens the warehouse and calls it.
"""
