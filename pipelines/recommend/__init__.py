"""Recommendation engine: predicted vs actual $/1M tokens, calibration, recommendations.

A pure library (no dagster): typed inputs in (``inputs``), mart rows out (``outputs``).
``fleet_inputs`` builds the inputs from a simulator folder, ``warehouse_inputs`` from the dbt
tables through a DuckDB connection the caller opens; both summarise days with
``observations``. ``tables`` types the rows for the raw tables the asset writes.

Public API: ``engine.recommend`` (all of it), ``calibrate.calibrate``,
``predict.efficiency_row``, the per-kind rules ``rightsize.right_size``,
``quantize.quantize``, ``distill.distill``, ``api.api``, the commitment-aware split of each
saving into cash now and deferred ``commitments.apply_commitments``, the thresholds in
``policy.Policy``, and ``outputs.efficiency_frame`` / ``recommendation_frame`` /
``to_rows`` for the ``fct_efficiency_daily`` and ``fct_recommendations`` marts.

``config`` validates the run config's ``recommend:`` section (policy, API price table);
``api_prices`` reads the dated, sourced price table; ``money`` is where float physics
becomes Decimal dollars (cents a month, micro-dollars a day; a month is 365/12 days,
``costmodel.units``); ``claims`` writes the sentences that name the policy values bounding a
recommendation, each true by construction.
"""
