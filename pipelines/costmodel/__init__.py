"""Theoretical cost model: what serving an LLM on given GPUs should cost.

A plain Python library. It never imports dagster or duckdb (a test enforces it), so analysts,
the CLI and the recommendation engine can all call it directly.

Modules, bottom up: ``units`` (the one month: 365/12 days), ``catalog`` / ``gpus`` /
``prices`` (data with sources), ``architecture`` (parameter counts, FLOPs), ``precision``,
``memory`` (fit, KV pool), ``parallelism``,
``engines`` (memory policy, efficiency priors), ``roofline`` (step times), ``throughput``,
``cost`` ($/1M tokens, regime, right-sizing), ``whatif``, ``calibration``, ``validation``,
``report`` and ``cli``.
"""
