"""The saturation guard: a deployment that queues or preempts at its peak keeps its size.

DCGM's busy fraction can be low while a deployment is short of KV cache: long prompts fill
it, vLLM preempts and requests wait, and the GPUs still idle between bursts. So busy time
alone would invite consolidating replicas that are already too few at the peak. The engine's
own metrics (``marts.fct_saturation_hourly``) say so: if in the worst hour of the window the
p95 of requests waiting exceeds ``max_peak_waiting_p95_requests``, or the engine preempts
more than ``max_peak_preemptions`` requests in one hour, right_size and quantize propose
nothing with fewer GPUs or fewer replicas, and say why (or, with nothing else to propose,
the engine records the withheld change and the reason: ``EngineResult.withheld``).

distill and api are not guarded: they change the LLM or leave the GPUs, and the teacher's
KV pressure says nothing about a student's or a provider's. A deployment without vLLM
metrics (another engine) has no signal, and is judged on busy time alone, as before.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pipelines.recommend.policy import Policy

if TYPE_CHECKING:  # inputs holds SaturationHour rows
    from pipelines.recommend.inputs import DeploymentConfig


@dataclass(frozen=True)
class SaturationHour:
    """One row of ``marts.fct_saturation_hourly``: the columns the guard reads."""

    deployment_id: str
    hour_start: dt.datetime
    waiting_p95_requests: float | None
    waiting_max_requests: float | None
    preemptions: int | None


@dataclass(frozen=True)
class PeakSaturation:
    """A deployment's worst hours in the window: the most queued and the most preempting."""

    deployment_id: str
    waiting_p95_requests: float
    waiting_hour: dt.datetime
    preemptions: int
    preemptions_hour: dt.datetime | None


def peak_saturation(hours: Iterable[SaturationHour], deployment_id: str) -> PeakSaturation | None:
    """The worst hour by waiting p95 and the worst by preemptions (the earliest of ties);
    None without any hour of vLLM metrics."""
    mine = sorted(
        (h for h in hours if h.deployment_id == deployment_id), key=lambda h: h.hour_start
    )
    waited = [h for h in mine if h.waiting_p95_requests is not None]
    if not waited:
        return None
    queue = max(waited, key=lambda h: h.waiting_p95_requests)
    counted = [h for h in mine if h.preemptions is not None]
    preempt = max(counted, key=lambda h: h.preemptions) if counted else None
    return PeakSaturation(
        deployment_id,
        queue.waiting_p95_requests,
        queue.hour_start,
        preempt.preemptions if preempt else 0,
        preempt.hour_start if preempt else None,
    )


def _hour(ts: dt.datetime) -> str:
    return ts.astimezone(dt.UTC).strftime("%Y-%m-%d %H:00 UTC")


def keep_size_reason(peak: PeakSaturation | None, policy: Policy) -> str | None:
    """Why the deployment must keep its GPUs and replicas, or None when it need not."""
    if peak is None:
        return None
    why = []
    if peak.waiting_p95_requests > policy.max_peak_waiting_p95_requests:
        why.append(
            f"requests queued in its peak hour ({_hour(peak.waiting_hour)}: p95 "
            f"{peak.waiting_p95_requests:g} waiting per vLLM server, over the "
            f"{policy.max_peak_waiting_p95_requests:g} of max_peak_waiting_p95_requests)"
        )
    if peak.preemptions > policy.max_peak_preemptions and peak.preemptions_hour is not None:
        why.append(
            f"vLLM preempted {peak.preemptions:,} requests in its worst hour "
            f"({_hour(peak.preemptions_hour)}), over the {policy.max_peak_preemptions:,} of "
            "max_peak_preemptions"
        )
    if not why:
        return None
    return "Saturated at its peak: " + "; ".join(why) + "."


def shrinks(new: DeploymentConfig, current: DeploymentConfig) -> bool:
    """True if ``new`` has fewer GPUs or fewer replicas than ``current``."""
    return new.num_gpus < current.num_gpus or new.replicas < current.replicas


@dataclass(frozen=True)
class Withheld:
    """A change the engine would have recommended but for the saturation guard."""

    deployment_id: str
    kind: str
    change: str
    reason: str
