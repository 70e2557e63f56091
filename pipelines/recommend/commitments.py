"""Commitment-aware savings: how much of a recommendation's saving is cash now.

A change frees GPU-hours. When a commitment paid for them, using fewer of them does not stop
the payments, so the saving is split into cash saved now and the rest, saved only after the
commitment ends (if it is not renewed) or used meanwhile as capacity or commitment freed for
other work. One rule per kind of commitment, told apart by FOCUS's CommitmentDiscountCategory:

- **Reserved Instance** (``Usage``: one instance type; AWS ``reserved-instances`` ARNs, GCP
  resource-based CUDs, Azure reservations). Billed every hour of its term whatever runs on
  it: freeing its GPUs saves no cash before it ends; until then the capacity is free for
  other work. The new config can keep running on it only on the same GPU type.
- **Savings Plan** (``Spend``: a $/hour commitment, flexible across instance types; AWS
  ``savingsplan`` ARNs). The plan keeps billing its hourly commitment; what it no longer
  covers here it covers elsewhere in the account, which saves cash only if that usage would
  otherwise run on demand. We do not count on that: the committed part is *commitment freed
  for reuse* now and cash after the plan ends. Any new config may keep using it.
- **On demand**: all cash. A commitment with an unknown category counts as ``Usage`` (the
  smaller cash figure); one that ended on or before the as-of day counts as on demand.

Arithmetic, per day (``C`` current, ``P`` proposed cost): ``C`` splits into on-demand
``C_od`` and committed ``C_k`` by the shares of the deployment's effective GPU cost under
each over the window (``int_billing__commitment_coverage``). The new config first uses the
commitment it may keep (``R`` = flexible ``C_k`` + instance-bound ``C_k`` if the GPU type
stays), absorbing ``A = min(P, R)``, and pays ``P - A`` in cash. Hence::

    cash now = C_od - (P - A)        deferred = sum(C_k) - A        together = C - P

The monthly saving ``S`` splits in that proportion: deferred = ``S × deferred / (C - P)``
to the cent, cash = ``S`` - deferred (exact, so cash + deferred = ``S``). Cash now is
negative when a change leaves a reservation for other GPUs: the new ones cost cash while
the reservation is still paid. Pure: no dagster, no I/O.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

import polars as pl

from pipelines.recommend.outputs import Recommendation

CENT = Decimal("0.01")
ZERO = Decimal(0)


@dataclass(frozen=True)
class CommitmentCoverage:
    """The GPU cost of one deployment (or of an instance no deployment held: then
    ``deployment_id`` is None and ``instance_id`` names it) over the window, under one
    commitment, or on demand when ``commitment_id`` is None. Money in USD."""

    deployment_id: str | None
    instance_id: str | None
    commitment_id: str | None
    commitment_type: str | None  # the provider's words: "Savings Plan", "Reserved Instance"
    commitment_category: str | None  # FOCUS: "Spend" (flexible) or "Usage" (instance-bound)
    end_date: dt.date | None  # UTC day the term ends; None if the bill does not say
    gpu_hours: float
    effective_cost_usd: Decimal
    billed_cost_usd: Decimal

    @property
    def flexible(self) -> bool:
        return self.commitment_category == "Spend"

    @property
    def name(self) -> str:
        """e.g. ``Reserved Instance ri-0c39…`` (an ARN's last part)."""
        short = (self.commitment_id or "").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
        return f"{self.commitment_type or 'commitment'} {short}"


@dataclass(frozen=True)
class SavingsSplit:
    """A monthly saving as cash now + deferred, and the commitments behind the deferred part
    (each with its share of the current cost, sorted by id)."""

    cash_monthly_savings_usd: Decimal
    deferred_monthly_savings_usd: Decimal
    commitments: tuple[tuple[CommitmentCoverage, Decimal], ...] = ()
    on_demand_share: Decimal = Decimal(1)

    @property
    def commitment_ids(self) -> str | None:
        return ", ".join(c.commitment_id for c, _ in self.commitments) or None

    @property
    def commitment_kind(self) -> str | None:
        kinds = sorted({c.commitment_type or "commitment" for c, _ in self.commitments})
        return ", ".join(kinds) or None

    @property
    def commitment_end_date(self) -> dt.date | None:
        """When the last of them ends (all the saving is cash after it); None if any end is
        unknown or there is no commitment."""
        ends = [c.end_date for c, _ in self.commitments]
        return max(ends) if ends and None not in ends else None  # type: ignore[type-var]


def coverage_from_frame(frame: pl.DataFrame) -> tuple[CommitmentCoverage, ...]:
    """The rows of ``sql/commitments.sql`` as ``CommitmentCoverage``."""
    return tuple(
        CommitmentCoverage(
            deployment_id=r["deployment_id"],
            instance_id=r["instance_id"],
            commitment_id=r["commitment_discount_id"],
            commitment_type=r["commitment_discount_type"],
            commitment_category=r["commitment_discount_category"],
            end_date=r["commitment_end_date"],
            gpu_hours=float(r["gpu_hours"]),
            effective_cost_usd=_usd(r["effective_cost_usd"]),
            billed_cost_usd=_usd(r["billed_cost_usd"]),
        )
        for r in frame.iter_rows(named=True)
    )


def _usd(amount: Decimal | float | int) -> Decimal:
    # floats by their shortest repr: 0.1 is 0.1, not 0.1000000000000000055…
    return amount if isinstance(amount, Decimal) else Decimal(repr(amount))


def _by_commitment(
    coverage: Iterable[CommitmentCoverage], as_of: dt.date | None
) -> tuple[Decimal, dict[str, CommitmentCoverage]]:
    """(on-demand effective cost, active commitment id -> its rows summed)."""
    on_demand, committed = ZERO, {}
    for row in coverage:
        ended = row.end_date is not None and as_of is not None and row.end_date <= as_of
        if row.commitment_id is None or ended:
            on_demand += row.effective_cost_usd
            continue
        seen = committed.get(row.commitment_id)
        committed[row.commitment_id] = row if seen is None else replace(
            seen,
            gpu_hours=seen.gpu_hours + row.gpu_hours,
            effective_cost_usd=seen.effective_cost_usd + row.effective_cost_usd,
            billed_cost_usd=seen.billed_cost_usd + row.billed_cost_usd,
        )  # fmt: skip
    return on_demand, committed


def split_savings(
    monthly_savings_usd: Decimal | float,
    current_daily_cost_usd: Decimal | float,
    proposed_daily_cost_usd: Decimal | float,
    coverage: Sequence[CommitmentCoverage],
    *,
    same_gpu_type: bool,
    as_of: dt.date | None,
) -> SavingsSplit:
    """Split ``monthly_savings_usd`` by the rule in the module docstring.

    ``coverage`` holds the rows of one deployment (or idle instance); ``same_gpu_type`` says
    whether the proposed config runs on the GPU type it has now (an instance-bound
    commitment can keep serving it).
    """
    saving = _usd(monthly_savings_usd)
    on_demand, committed = _by_commitment(coverage, as_of)
    total = on_demand + sum((c.effective_cost_usd for c in committed.values()), ZERO)
    current, proposed = _usd(current_daily_cost_usd), _usd(proposed_daily_cost_usd)
    daily_saving = current - proposed
    if not committed or total <= 0 or daily_saving <= 0:
        return SavingsSplit(saving, ZERO)
    shares = {k: c.effective_cost_usd / total for k, c in sorted(committed.items())}
    reusable = sum((s for k, s in shares.items() if committed[k].flexible or same_gpu_type), ZERO)
    absorbed = min(proposed, current * reusable)
    deferred_daily = current * sum(shares.values(), ZERO) - absorbed
    deferred = (saving * deferred_daily / daily_saving).quantize(CENT)
    rows = tuple((committed[k], s) for k, s in shares.items())
    return SavingsSplit(saving - deferred, deferred, rows, on_demand / total)


def _money(amount: Decimal) -> str:
    return f"{'-' if amount < 0 else ''}${abs(amount):,.0f}/mo"


def _ends(c: CommitmentCoverage) -> str:
    return f"ends {c.end_date.isoformat()}" if c.end_date else "end date not in the bill"


def describe(split: SavingsSplit, gpu_id: str | None) -> tuple[str, tuple[str, ...]]:
    """(a clause for the summary, sentences for the assumptions) naming each commitment."""
    if not split.commitments:
        return "", ()
    names = " and ".join(f"{c.name} ({_ends(c)})" for c, _ in split.commitments)
    if split.deferred_monthly_savings_usd == 0:
        clause = f" All of it is cash now: the new config keeps {names} in use."
    else:
        clause = (
            f" Cash saved now {_money(split.cash_monthly_savings_usd)}; the other "
            f"{_money(split.deferred_monthly_savings_usd)} frees {names} for other use until "
            "then and is cash after, if not renewed."
        )
    notes = []
    for c, share in split.commitments:
        if c.flexible:
            notes.append(
                f"{c.name} ({_ends(c)}, {share:.0%} of the current cost) commits to a spend per "
                "hour: what it stops covering here it covers elsewhere, a cash saving only if "
                "that usage would otherwise run on demand, so it counts as cash only after "
                "the plan ends."
            )
        else:
            keep = f"; the new config keeps using it only on {gpu_id} GPUs" if gpu_id else ""
            notes.append(
                f"{c.name} ({_ends(c)}, {share:.0%} of the current cost) is paid every hour "
                f"of its term whatever runs on it: freeing it saves no cash before it ends{keep}."
            )
    notes.append(
        "Cash now = the on-demand cost freed minus the new cost no commitment absorbs "
        f"({split.on_demand_share:.0%} of the current cost is on demand)."
    )
    return clause, tuple(notes)


def apply_commitments(
    recs: Iterable[Recommendation],
    coverage: Iterable[CommitmentCoverage],
    gpu_types: Mapping[str, str],
) -> list[Recommendation]:
    """Each recommendation with its saving split and its text naming the commitments.

    ``gpu_types`` maps deployment id -> current GPU type; a deployment's rows are those with
    its id, an idle instance's those with its ``instance_id`` and no deployment.
    """
    by_deployment: dict[str, list[CommitmentCoverage]] = {}
    by_instance: dict[str, list[CommitmentCoverage]] = {}
    for row in coverage:
        if row.deployment_id is not None:
            by_deployment.setdefault(row.deployment_id, []).append(row)
        elif row.instance_id is not None:
            by_instance.setdefault(row.instance_id, []).append(row)
    out = []
    for rec in recs:
        if rec.deployment_id is not None:
            rows = by_deployment.get(rec.deployment_id, [])
        else:
            rows = by_instance.get(rec.instance_id or "", [])
        current_gpu = gpu_types.get(rec.deployment_id or "")
        same = current_gpu is not None and rec.target.get("gpu_id") == current_gpu
        split = split_savings(
            rec.monthly_savings_usd,
            rec.current_daily_cost_usd,
            rec.proposed_daily_cost_usd,
            rows,
            same_gpu_type=same,
            as_of=rec.as_of_date,
        )
        clause, notes = describe(split, current_gpu)
        out.append(
            replace(
                rec,
                summary=rec.summary + clause,
                assumptions=(*rec.assumptions, *notes),
                cash_monthly_savings_usd=split.cash_monthly_savings_usd,
                deferred_monthly_savings_usd=split.deferred_monthly_savings_usd,
                commitment_ids=split.commitment_ids,
                commitment_kind=split.commitment_kind,
                commitment_end_date=split.commitment_end_date,
            )
        )
    return out
