"""Pure ingest logic: read a source's files, validate, normalise. Never imports dagster."""
