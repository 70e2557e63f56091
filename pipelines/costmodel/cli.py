"""``unitcost predict`` and ``unitcost validate``: the cost model from the command line.

``add_parsers`` registers both subcommands on the top-level ``unitcost`` parser; ``main``
builds a parser with just these two, for tests and ``python -m``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Sequence

from pipelines.costmodel.accuracy import (
    by_hardware_class,
    by_source,
    split_cases,
    summarise,
)
from pipelines.costmodel.benchmarks import excluded_counts
from pipelines.costmodel.catalog import gpu_ids, llm_ids
from pipelines.costmodel.cost import CostPrediction, TrafficProfile, predict_cost
from pipelines.costmodel.deployment import Deployment
from pipelines.costmodel.engines import ENGINE_PROFILES, Efficiency
from pipelines.costmodel.memory import kv_cache_bytes_per_token, min_tensor_parallel, weight_bytes
from pipelines.costmodel.precision import KV_CACHE_BYTES_PER_ELEMENT, PRECISIONS
from pipelines.costmodel.prices import cheapest_instance, instance_prices
from pipelines.costmodel.report import (
    format_accuracy,
    format_prediction,
    format_validation,
    prediction_record,
)
from pipelines.costmodel.sizing import choose_replicas
from pipelines.costmodel.throughput import DoesNotFitError
from pipelines.costmodel.validation import median_absolute_error_pct, validate


def _concurrency(value: str) -> int | None:
    if value == "max":
        return None
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("concurrency must be >= 1 or 'max'")
    return number


def _gpus(value: str) -> int | str:
    if value == "auto":
        return value
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("--gpus must be >= 1 or 'auto'")
    return number


def _add_predict(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("predict", help="predict memory, throughput and $/1M tokens")
    parser.add_argument("--llm", required=True, choices=llm_ids())
    parser.add_argument("--gpu", required=True, choices=gpu_ids())
    parser.add_argument(
        "--gpus",
        type=_gpus,
        default=1,
        help="GPUs in the deployment, or 'auto': the replica size and count with the most "
        "throughput per dollar for the traffic (says why)",
    )
    parser.add_argument(
        "--tp", type=int, default=None, help="tensor-parallel degree (default: fastest)"
    )
    parser.add_argument("--precision", default="bf16", choices=sorted(PRECISIONS))
    parser.add_argument(
        "--kv-precision", default="bf16", choices=sorted(KV_CACHE_BYTES_PER_ELEMENT)
    )
    parser.add_argument("--engine", default="vllm", choices=sorted(ENGINE_PROFILES))
    parser.add_argument("--isl", type=float, required=True, help="mean input tokens per request")
    parser.add_argument("--osl", type=float, required=True, help="mean output tokens per request")
    demand = parser.add_mutually_exclusive_group()
    demand.add_argument("--tokens-per-day", type=float, help="input + output tokens per day")
    demand.add_argument("--requests-per-s", type=float)
    parser.add_argument(
        "--concurrency", type=_concurrency, default=None, help="N or 'max' (default)"
    )
    parser.add_argument(
        "--utilisation", type=float, default=1.0, help="usable share of capacity (0-1]"
    )
    price = parser.add_mutually_exclusive_group()
    price.add_argument("--usd-per-gpu-hour", type=float)
    price.add_argument("--instance", choices=sorted(instance_prices()))
    parser.add_argument("--mbu", type=float, help="override the decode bandwidth efficiency prior")
    parser.add_argument("--mfu", type=float, help="override the FLOP efficiency prior")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=run_predict)


def _add_validate(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("validate", help="score the model on published measurements")
    parser.set_defaults(func=run_validate)


def add_parsers(subparsers: argparse._SubParsersAction) -> None:
    """Register ``predict``, ``validate`` and ``fit-priors`` on a top-level
    ``add_subparsers()`` object."""
    from pipelines.costmodel.priors_cli import add_parser as add_fit_priors

    _add_predict(subparsers)
    _add_validate(subparsers)
    add_fit_priors(subparsers)


def _price(args: argparse.Namespace) -> tuple[float | None, str]:
    if args.usd_per_gpu_hour is not None:
        return args.usd_per_gpu_hour, "--usd-per-gpu-hour"
    offer = instance_prices()[args.instance] if args.instance else cheapest_instance(args.gpu)
    if offer is None or offer.gpu_id != args.gpu:
        return None, f"no listed instance carries {args.gpu}; pass --usd-per-gpu-hour"
    return (
        offer.usd_per_gpu_hour,
        f"{offer.provider} {offer.instance_type} ({offer.region}, {offer.as_of})",
    )


def _deployment(args: argparse.Namespace) -> Deployment:
    efficiency = None
    if args.mbu is not None or args.mfu is not None:
        from pipelines.costmodel.engines import efficiency_prior

        prior = efficiency_prior(args.engine, args.gpu, args.precision)
        efficiency = Efficiency(
            args.mbu or prior.mbu,
            args.mfu or prior.mfu,
            prior.allreduce_latency_s,
            prior.step_overhead_s,
        )
    return Deployment(
        args.llm,
        args.gpu,
        1 if args.gpus == "auto" else args.gpus,
        args.precision,
        args.kv_precision,
        args.engine,
        args.tp,
        efficiency,
    )


def run_predict(args: argparse.Namespace) -> int:
    """Handler of ``unitcost predict``; returns the exit code."""
    try:
        deployment = _deployment(args)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.tokens_per_day is not None:
        traffic = TrafficProfile.from_tokens_per_day(
            args.tokens_per_day, args.isl, args.osl, args.concurrency
        )
    else:
        traffic = TrafficProfile(args.isl, args.osl, args.requests_per_s, args.concurrency)
    sizing = None
    if args.gpus == "auto":
        try:
            choice = choose_replicas(
                deployment,
                args.isl,
                args.osl,
                traffic.requests_per_s,
                traffic.concurrency,
                args.utilisation,
            )
            deployment, sizing = choice.deployment, choice.reason
        except DoesNotFitError as error:
            sizing = str(error)
    usd_per_gpu_hour, price_source = _price(args)
    prediction: CostPrediction | None = None
    with contextlib.suppress(DoesNotFitError):  # a non-fit is an answer: fits=false
        prediction = predict_cost(deployment, traffic, usd_per_gpu_hour or 0.0, args.utilisation)
    record = prediction_record(
        deployment,
        traffic,
        prediction,
        min_gpus=min_tensor_parallel(deployment, args.isl, args.osl),
        weights_gib=weight_bytes(deployment.arch, deployment.precision) / 2**30,
        kv_cache_bytes_per_token=kv_cache_bytes_per_token(deployment.arch, args.kv_precision),
        priced=usd_per_gpu_hour is not None,
        price_source=price_source,
    )
    if sizing is not None:
        record["sizing"] = sizing
    print(json.dumps(record, indent=2) if args.json else format_prediction(record))
    return 0


def run_validate(args: argparse.Namespace) -> int:
    """Handler of ``unitcost validate``: COSTMODEL.md §6 case by case, then median and p90
    |error| on the public benchmarks' held-out and fit halves, overall, per hardware class
    and per source."""
    results = validate()
    print(format_validation(results, median_absolute_error_pct(results)))
    fit, held_out = split_cases()
    sections = []
    for name, cases in (("HELD OUT", held_out), ("FIT", fit)):
        scored = validate(cases)
        label = f"{name} ({len(cases)} measurements; split by publisher, benchmarks.is_held_out)"
        sections += [
            (f"{label}: overall", summarise(scored)),
            (f"{name}: per hardware class", summarise(scored, by_hardware_class)),
            (f"{name}: per source", summarise(scored, by_source)),
        ]
    print(format_accuracy(sections, excluded_counts()))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` with just ``predict`` and ``validate`` and run the chosen one."""
    parser = argparse.ArgumentParser(prog="unitcost", description=__doc__.splitlines()[0])
    add_parsers(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
