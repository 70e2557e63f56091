"""Cross-source reconciliations: plain SQL over the warehouse, no dagster (assets/checks.py
turns them into asset checks)."""
