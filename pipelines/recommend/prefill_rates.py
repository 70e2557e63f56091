"""The cost model's prefill speed per deployment: the split's fallback for prefill time.

A request's time to first token holds its queue wait and its prefill. The input/output split
(``int_requests__phases``) charges input tokens for prefill compute only: from the engine's
own prefill histogram where vLLM exports one, otherwise from this table: the Tier-0 cost
model's seconds per uncached prompt token for the deployment's LLM, GPUs, precision and TP,
at a nominal 1,024-token prompt (prefill time is close to linear in the prompt).

Known bias: where the engine is slower than the prior, prefill is capped too low and input
tokens look cheaper than they are; the engine histogram avoids it. Written with the registry
snapshot (``raw.registry_prefill_rates``) so the daily dbt models can read it.
"""

from __future__ import annotations

import polars as pl

from pipelines.costmodel.deployment import Deployment
from pipelines.costmodel.engines import ENGINE_PROFILES
from pipelines.costmodel.throughput import DoesNotFitError, estimate_throughput
from pipelines.recommend.inputs import ENGINE_STAND_INS

NOMINAL_PROMPT_TOKENS = 1024
NOMINAL_OUTPUT_TOKENS = 128
PREFILL_RATE_SCHEMA = {"deployment_id": pl.String, "modelled_prefill_seconds_per_token": pl.Float64}


def modelled_prefill_seconds_per_token(
    llm_id: str,
    gpu_id: str,
    gpu_count: int,
    tensor_parallel: int,
    weight_precision: str,
    kv_cache_precision: str,
    engine: str,
) -> float | None:
    """Prefill seconds per uncached prompt token of one replica at the prior; None if the
    cost model cannot place the LLM on these GPUs (or does not know a precision)."""
    engine = engine if engine in ENGINE_PROFILES else ENGINE_STAND_INS.get(engine, "vllm")
    try:
        deployment = Deployment(
            llm_id,
            gpu_id,
            gpu_count,
            weight_precision,
            kv_cache_precision,
            engine,
            tensor_parallel,
        )
        est = estimate_throughput(
            deployment, NOMINAL_PROMPT_TOKENS, NOMINAL_OUTPUT_TOKENS, deployment.num_gpus
        )
    except (DoesNotFitError, KeyError, ValueError):
        return None
    return est.prefill.total_s / NOMINAL_PROMPT_TOKENS


def prefill_rate_frame(deployments: pl.DataFrame) -> pl.DataFrame:
    """One row per deployment of ``raw.registry_deployments``; a NULL rate where the cost
    model cannot place it (the split then charges the whole TTFT to prefill)."""
    rows = [
        {
            "deployment_id": d["deployment_id"],
            "modelled_prefill_seconds_per_token": modelled_prefill_seconds_per_token(
                d["llm_id"],
                d["gpu_type"],
                d["gpu_count"],
                d["tensor_parallel"],
                d["weight_precision"],
                d["kv_cache_precision"],
                d["engine"],
            ),
        }
        for d in deployments.iter_rows(named=True)
    ]
    return pl.DataFrame(rows, schema=PREFILL_RATE_SCHEMA)
