"""Theoretical cost model: what serving an LLM on given GPUs should cost.

A plain Python library. It never imports dagster or duckdb (a test enforces it), so analysts,
the CLI and the recommendation engine can all call it directly.
"""
