"""Recommendation engine: predicted vs actual $/1M tokens, calibration, recommendations.

A pure library (no dagster, no duckdb): typed inputs in (``inputs``), mart rows out
(``outputs``). ``fleet_inputs`` builds the inputs from a simulator folder; later the dbt
marts feed the same types.

Public API: ``engine.recommend`` (all of it), ``calibrate.calibrate``,
``predict.efficiency_row``, the per-kind rules ``rightsize.right_size``,
``quantize.quantize``, ``distill.distill``, ``api.api``, the thresholds in
``policy.Policy``, and ``outputs.efficiency_frame`` / ``recommendation_frame`` /
``to_rows`` for the ``fct_efficiency_daily`` and ``fct_recommendations`` marts.
"""
