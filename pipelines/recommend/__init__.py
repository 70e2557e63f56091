"""Recommendation engine: modelled vs actual GPU time, calibration, recommendations.

A pure library (no dagster): typed inputs in (``inputs``), mart rows out (``outputs``).
``warehouse_inputs`` builds the inputs from the dbt tables through a DuckDB connection the
caller opens and summarises days with ``observations`` (tests also build them straight from
a simulator folder: tests/unit/recommend/fleet_inputs.py). ``tables`` types the rows for the
raw tables the asset writes; ``predict`` gives GPU-seconds that ``fct_efficiency_daily``
prices (docs/cost-split.md).

Public API: ``engine.recommend`` (all of it), ``calibrate.calibrate`` and the out-of-sample
``calibrate.calibrate_days``,
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
