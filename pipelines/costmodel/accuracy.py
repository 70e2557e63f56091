"""How accurate the cost model is: every public measurement, split into fit and held-out.

The evaluation set is the two public tables (``benchmarks``) plus COSTMODEL.md §6's own rows,
except rows 1-11, which are the TensorRT-LLM table's numbers again (counted once). The split
is ``benchmarks.is_held_out(publisher)``; errors are summarised as the median and p90 of
|predicted − measured| / measured, overall, per hardware class and per source.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache

from pipelines.costmodel.benchmarks import TRTLLM_PUBLISHER, benchmark_measurements, is_held_out
from pipelines.costmodel.validation import Measurement, ValidationResult, measurements, validate


@cache
def evaluation_cases() -> tuple[Measurement, ...]:
    """The public tables' rows and COSTMODEL.md §6's rows that are not copies of them."""
    own = tuple(case for case in measurements() if case.publisher != TRTLLM_PUBLISHER)
    return benchmark_measurements() + own


def split_cases() -> tuple[tuple[Measurement, ...], tuple[Measurement, ...]]:
    """(fit, held_out) by the fixed publisher rule."""
    cases = evaluation_cases()
    return (
        tuple(case for case in cases if not is_held_out(case.publisher)),
        tuple(case for case in cases if is_held_out(case.publisher)),
    )


def p90(values: Iterable[float]) -> float:
    """Nearest-rank 90th percentile: the ceil(0.9·n)-th smallest value.

    Examples
    --------
    >>> p90(range(1, 11))
    9
    """
    ordered = sorted(values)
    return ordered[math.ceil(0.9 * len(ordered)) - 1]


@dataclass(frozen=True)
class ErrorSummary:
    """Median and p90 of |error| (percent) over ``cases`` results of one group."""

    group: str
    cases: int
    median_abs_error_pct: float
    p90_abs_error_pct: float
    median_error_pct: float  # signed: > 0 means the model over-predicts


def summarise(
    results: list[ValidationResult], key: Callable[[ValidationResult], str] | None = None
) -> list[ErrorSummary]:
    """One ``ErrorSummary`` per group of ``key`` (or one, ``"all"``), sorted by group."""
    groups: dict[str, list[float]] = {}
    for result in results:
        groups.setdefault(key(result) if key else "all", []).append(result.error_pct)
    return [
        ErrorSummary(
            group,
            len(errors),
            statistics.median(abs(e) for e in errors),
            p90(abs(e) for e in errors),
            statistics.median(errors),
        )
        for group, errors in sorted(groups.items())
    ]


def by_hardware_class(result: ValidationResult) -> str:
    return result.measurement.hardware_class


def by_source(result: ValidationResult) -> str:
    return result.measurement.source.split(" @")[0]


def held_out_results() -> list[ValidationResult]:
    """The shipped priors' predictions of every held-out measurement."""
    return validate(split_cases()[1])
