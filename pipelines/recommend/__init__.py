"""Recommendation engine: predicted vs actual $/1M tokens, calibration, recommendations.

A pure library (no dagster): typed inputs in (``inputs``), mart rows out (``outputs``).
``fleet_inputs`` builds the inputs from a simulator folder, ``warehouse_inputs`` from the dbt
tables through a DuckDB connection the caller opens; both summarise days with
``observations``. ``tables`` types the rows for the raw tables the asset writes.

Public API: ``engine.recommend`` (all of it), ``calibrate.calibrate``,
``predict.efficiency_row``, the per-kind rules ``rightsize.right_size``,
``quantize.quantize``, ``distill.distill``, ``api.api``, the thresholds in
``policy.Policy``, and ``outputs.efficiency_frame`` / ``recommendation_frame`` /
``to_rows`` for the ``fct_efficiency_daily`` and ``fct_recommendations`` marts.
"""
