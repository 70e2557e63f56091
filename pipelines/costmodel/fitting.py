"""Fit the tier-0 priors to the fit half of the public measurements (``unitcost fit-priors``).

The rule, chosen to be checked by hand rather than to squeeze the last percent:

1. Each fit row is attributed to the efficiency its prediction is most sensitive to: MBU
   (decode bandwidth) or MFU (FLOPs), by the elasticity d ln(predicted) / d ln(efficiency).
2. For each row, the *implied* efficiency is the value (bisection on [0.02, 1]) at which the
   model reproduces the measurement, the other efficiency held at the group's value.
3. A group's MBU (MFU) is the median implied value over its MBU (MFU) rows; a group without
   such rows inherits its parent's value. Two alternations.
4. Groups, each fitted only if it has ``MIN_FIT_ROWS`` rows, parent first: all rows
   (``*, *, *``) → vendor → GPU architecture (family) → GPU (any engine) → (engine family,
   GPU, precision).
5. Written (``priors_rows``): classes, GPUs and architectures. The all-rows and vendor groups
   only seed their children; a deployment on an architecture no table covers keeps the
   literature default (``DEFAULT_ROW``), not a pool dominated by other parts' kernels.
6. Link efficiency per interconnect: the median implied value over fit rows whose replica
   spans that link and whose prediction moves at least 5 % per doubling of the link's speed;
   then the groups are refitted once.

Only fit rows are used (``accuracy.split_cases``); held-out rows never touch the priors.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass, replace

from pipelines.costmodel.engines import ANY, Efficiency, engine_family
from pipelines.costmodel.throughput import DoesNotFitError, estimate_throughput
from pipelines.costmodel.validation import Measurement, predict_measurement

MIN_FIT_ROWS = 4
LOW, HIGH = 0.02, 1.0
INTERCONNECTS = ("nvlink", "pcie", "infinity-fabric")
DEFAULT = Efficiency(mbu=0.70, mfu=0.50, allreduce_latency_s=8e-6)


@dataclass(frozen=True)
class GroupFit:
    """Fitted efficiencies of one prior key and the fit rows behind them."""

    key: tuple[str, str, str]
    efficiency: Efficiency
    mbu_rows: int
    mfu_rows: int


def _predict(case: Measurement, eff: Efficiency) -> float | None:
    try:
        return predict_measurement(case, eff)
    except DoesNotFitError:
        return None


def _log_gap(case: Measurement, eff: Efficiency) -> float:
    """ln(predicted / measured), signed so that it rises with efficiency for every metric."""
    gap = math.log(_predict(case, eff) / case.measured)
    return gap if case.metric == "output_tokens_per_s" else -gap


def _implied(case: Measurement, make: Callable[[float], Efficiency]) -> float:
    """The efficiency x in [LOW, HIGH] at which the model reproduces ``case`` (bisection)."""
    lo, hi = LOW, HIGH
    if _log_gap(case, make(hi)) <= 0:
        return hi
    if _log_gap(case, make(lo)) >= 0:
        return lo
    for _ in range(30):
        mid = math.sqrt(lo * hi)
        lo, hi = (mid, hi) if _log_gap(case, make(mid)) < 0 else (lo, mid)
    return math.sqrt(lo * hi)


def _elasticity(case: Measurement, low: Efficiency, high: Efficiency) -> float:
    return abs(_log_gap(case, high) - _log_gap(case, low)) / math.log(1.25)


def _is_mbu_row(case: Measurement, eff: Efficiency) -> bool:
    up_b = replace(eff, mbu=min(HIGH, eff.mbu * 1.25))
    up_f = replace(eff, mfu=min(HIGH, eff.mfu * 1.25))
    down_b = replace(up_b, mbu=up_b.mbu / 1.25)
    down_f = replace(up_f, mfu=up_f.mfu / 1.25)
    return _elasticity(case, down_b, up_b) >= _elasticity(case, down_f, up_f)


def _link_of(case: Measurement, links: dict[str, float]) -> float:
    """The link efficiency ``case`` is predicted with: that of the link its GPUs' widest
    replica would cross (each fit GPU has one link type up to 8 GPUs)."""
    deployment = case.deployment
    tp = deployment.tensor_parallel or deployment.num_gpus
    return links[deployment.gpu.interconnect(tp)]


def fit_group(
    key: tuple[str, str, str],
    cases: list[Measurement],
    parent: Efficiency,
    links: dict[str, float],
) -> GroupFit:
    """Median implied MBU and MFU of ``cases``, starting from (and falling back to) ``parent``."""
    eff = parent

    def vary(case: Measurement, name: str) -> Callable[[float], Efficiency]:
        """Efficiency with ``name`` (mbu or mfu) set to x, all else at the group's values."""
        base = replace(eff, link_efficiency=_link_of(case, links))
        return lambda x: replace(base, **{name: x})

    mbu_cases: list[Measurement] = []
    mfu_cases: list[Measurement] = []
    for _ in range(2):
        linked = {c.case_id: replace(eff, link_efficiency=_link_of(c, links)) for c in cases}
        mbu_cases = [c for c in cases if _is_mbu_row(c, linked[c.case_id])]
        mfu_cases = [c for c in cases if not _is_mbu_row(c, linked[c.case_id])]
        if mbu_cases:
            mbu = statistics.median(_implied(c, vary(c, "mbu")) for c in mbu_cases)
            eff = replace(eff, mbu=round(mbu, 3))
        if mfu_cases:
            mfu = statistics.median(_implied(c, vary(c, "mfu")) for c in mfu_cases)
            eff = replace(eff, mfu=round(mfu, 3))
    return GroupFit(key, eff, len(mbu_cases), len(mfu_cases))


def group_keys(case: Measurement) -> list[tuple[str, str, str]]:
    """The prior keys a case is fitted under, parent first (the reverse of ``prior_keys``).

    Examples
    --------
    >>> from pipelines.costmodel.validation import measurements
    >>> group_keys(measurements()[0])[-2:]
    [('*', 'h100-sxm', '*'), ('trtllm', 'h100-sxm', 'fp8')]
    """
    deployment = case.deployment
    return [
        (ANY, ANY, ANY),
        (ANY, f"vendor:{deployment.gpu.vendor}", ANY),
        (ANY, f"arch:{deployment.gpu.architecture}", ANY),
        (ANY, deployment.gpu_id, ANY),
        (engine_family(deployment.engine), deployment.gpu_id, deployment.weight_precision),
    ]


def fit_groups(cases: list[Measurement], links: dict[str, float]) -> dict[tuple, GroupFit]:
    """Every group with at least ``MIN_FIT_ROWS`` cases (the global group always), parent first."""
    members: dict[tuple[str, str, str], list[Measurement]] = {}
    for case in cases:
        for level, key in enumerate(group_keys(case)):
            members.setdefault((level, *key), []).append(case)
    fits: dict[tuple[str, str, str], GroupFit] = {}
    for (level, *key), group in sorted(members.items()):
        key = tuple(key)
        if len(group) < MIN_FIT_ROWS and level > 0:
            continue
        parents = [fits[k] for k in group_keys(group[0])[:level] if k in fits]
        parent = parents[-1].efficiency if parents else DEFAULT
        fits[key] = fit_group(key, group, parent, links)
    return fits


def resolve(case: Measurement, fits: dict[tuple, GroupFit]) -> Efficiency:
    """The most specific fitted efficiency for ``case`` (as ``efficiency_prior`` would)."""
    for key in reversed(group_keys(case)):
        if key in fits:
            return fits[key].efficiency
    return DEFAULT


def _spans_link(case: Measurement, eff: Efficiency) -> bool:
    """True if the predicted replica has TP > 1 and its prediction moves >= 5 % when the
    link's speed doubles (0.5 -> 1.0 of its datasheet bandwidth)."""
    try:
        estimate = estimate_throughput(
            replace(case.deployment, efficiency=eff),
            case.input_tokens,
            case.output_tokens,
            case.concurrency,
        )
    except DoesNotFitError:
        return False
    if estimate.tensor_parallel == 1:
        return False
    slow, fast = replace(eff, link_efficiency=0.5), replace(eff, link_efficiency=1.0)
    return abs(_log_gap(case, fast) - _log_gap(case, slow)) >= math.log(1.05)


def fit_links(
    cases: list[Measurement], fits: dict[tuple, GroupFit], links: dict[str, float]
) -> dict[str, tuple[float, int]]:
    """Per interconnect: (median implied link efficiency, rows); unfitted links keep theirs."""
    fitted: dict[str, tuple[float, int]] = {}
    for interconnect in INTERCONNECTS:
        rows = []
        for case in cases:
            tp = case.deployment.tensor_parallel or case.deployment.num_gpus
            if case.deployment.gpu.interconnect(tp) != interconnect:
                continue
            eff = replace(resolve(case, fits), link_efficiency=links[interconnect])
            if _spans_link(case, eff):
                rows.append(_implied(case, lambda x, e=eff: replace(e, link_efficiency=x)))
        if len(rows) >= MIN_FIT_ROWS:
            fitted[interconnect] = (round(statistics.median(rows), 3), len(rows))
        else:
            fitted[interconnect] = (links[interconnect], 0)
    return fitted


@dataclass(frozen=True)
class PriorsFit:
    """The outcome of ``fit_priors``: efficiency groups and link efficiencies with row counts."""

    groups: dict[tuple, GroupFit]
    links: dict[str, tuple[float, int]]


def fit_priors(cases: list[Measurement]) -> PriorsFit:
    """Groups at datasheet links, then link efficiencies, then the groups again at those."""
    links = dict.fromkeys(INTERCONNECTS, 1.0)
    groups = fit_groups(cases, links)
    fitted_links = fit_links(cases, groups, links)
    links = {name: value for name, (value, _) in fitted_links.items()}
    return PriorsFit(fit_groups(cases, links), fitted_links)


PRIORS_HEADER = (
    "engine",
    "gpu_id",
    "precision",
    "mbu",
    "mfu",
    "allreduce_latency_us",
    "step_overhead_ms",
    "fit_rows",
    "source",
)


DEFAULT_ROW = {
    "engine": ANY,
    "gpu_id": ANY,
    "precision": ANY,
    "mbu": "0.700",
    "mfu": "0.500",
    "allreduce_latency_us": "8",
    "step_overhead_ms": "0",
    "fit_rows": 0,
    "source": (
        "not fitted: the default for architectures no public table covers; 70-85 % MBU rule "
        "of thumb (open-source-ai.tech glossary), 57-78 % implied by COSTMODEL.md §6 rows 2, "
        "12, 15; MFU 0.5 a common prefill prior; α ~ NCCL small-message all-reduce latency"
    ),
}


def _written(key: tuple[str, str, str]) -> bool:
    """The pooled all-rows and vendor groups only seed their children: an architecture the
    tables do not cover keeps the literature default rather than, e.g., Blackwell's FP4 MFU."""
    return key != (ANY, ANY, ANY) and not key[1].startswith("vendor:")


def priors_rows(result: PriorsFit, inputs_sha256: str) -> list[dict[str, object]]:
    """``efficiency_priors.csv`` rows, most general first, each saying where it came from."""
    rows: list[dict[str, object]] = [DEFAULT_ROW]
    for key, group in sorted(
        result.groups.items(), key=lambda item: (item[0].count(ANY) * -1, item[0])
    ):
        if not _written(key):
            continue
        inherited = []
        if not group.mbu_rows:
            inherited.append("MBU")
        if not group.mfu_rows:
            inherited.append("MFU")
        note = f"; {' and '.join(inherited)} inherited from the parent group" if inherited else ""
        rows.append(
            {
                "engine": key[0],
                "gpu_id": key[1],
                "precision": key[2],
                "mbu": f"{group.efficiency.mbu:.3f}",
                "mfu": f"{group.efficiency.mfu:.3f}",
                "allreduce_latency_us": f"{group.efficiency.allreduce_latency_s * 1e6:g}",
                "step_overhead_ms": f"{group.efficiency.step_overhead_s * 1e3:g}",
                "fit_rows": group.mbu_rows + group.mfu_rows,
                "source": (
                    f"unitcost fit-priors: median implied efficiency over {group.mbu_rows} MBU "
                    f"and {group.mfu_rows} MFU fit rows{note}; inputs sha256 {inputs_sha256}"
                ),
            }
        )
    return rows


def interconnect_rows(result: PriorsFit, inputs_sha256: str) -> list[dict[str, object]]:
    """``interconnect_priors.csv`` rows: fitted where enough fit rows span the link."""
    rows = []
    for name, (value, count) in result.links.items():
        how = (
            f"unitcost fit-priors: median implied link efficiency over {count} fit rows"
            if count
            else f"no fit row spans it (fewer than {MIN_FIT_ROWS}): datasheet bandwidth kept"
        )
        rows.append(
            {
                "interconnect": name,
                "link_efficiency": f"{value:.3f}",
                "fit_rows": count,
                "source": f"{how}; inputs sha256 {inputs_sha256}",
            }
        )
    return rows
