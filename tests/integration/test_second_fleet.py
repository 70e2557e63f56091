"""A second fleet end to end: `pipelines/fleet/specs/second_fleet.yaml`, simulated for three
days and run through `unitcost run`, checked against its own truth (issue 11, point 8).

Other LLMs, GPUs and loads than the default fleet (Llama-3.3-70B FP8 and BF16 on H200,
Qwen2.5-14B FP8 on L40S, Qwen2.5-3B on an L40S, an unused A10G box; Mooncake and Azure
traces). Expected values come from the simulator's files only, read by ``fleet_truth``
(ground_truth.json, registry.yaml, the CUR 2.0 bill, the shipped price list), never from the
marts or the engine's own functions:

* every planted opportunity is found, with the right kind and target;
* the healthy deployment gets nothing, and nothing is recommended beyond the planted ones
  (the spec is built so that every other change misses the policy by a wide margin);
* each saving is within ±15 % of what the bill says the change saves (effective cost,
  365/12-day month);
* the usage-basis actual is the bill's price × the busy GPU time the simulator recorded, and
  the modelled cost is within 10 % of it (median per deployment over the days scored out of
  sample) — these two read the redefined ``marts.fct_efficiency_daily`` (point 2).

Three days: the first is scored with the prior, days 2-3 out of sample. ~430 k requests,
about 1.5 minutes of simulate + run on two cores.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from fleet_truth import (
    RECOMMENDATION_KIND,
    FleetTruth,
    implied_efficiencies,
    load_fleet_truth,
    median_abs_error,
    parse_target,
)

from pipelines.fleet.service import SPEED_SIGMA
from pipelines.fleet.spec import DEFAULT_SPEC_PATH, load_spec
from pipelines.warehouse import connect

SPEC = DEFAULT_SPEC_PATH.parent / "specs" / "second_fleet.yaml"
START = dt.date(2026, 11, 1)  # the first simulated day of conftest.second_fleet_run
SAVINGS_TOLERANCE = 0.15
MODELLED_BOUND = 0.10  # median |modelled / actual − 1| per deployment, out of sample
# actual_usage_cost_usd vs busy GPU-seconds (simulator) × effective $/GPU-second (bill):
# measured 0.11 % at most (day 1 on the H200 host, whose hour 06:00 misses 10 minutes of
# DCGM samples by design), 0 elsewhere; 0.5 % leaves room for the DCGM 1e-6 rounding.
USAGE_TOLERANCE = 0.005

OPPORTUNITIES = sorted(
    label for label, s in load_spec(SPEC).planted.items() if s.kind in RECOMMENDATION_KIND
)


@dataclass(frozen=True)
class Fleet:
    truth: FleetTruth
    duckdb_path: Path
    recs: list[dict]  # every marts.fct_recommendations row

    @property
    def latest(self) -> list[dict]:
        return [r for r in self.recs if r["is_latest"]]


@pytest.fixture(scope="module")
def fleet(second_fleet_run) -> Fleet:
    out, _ = second_fleet_run  # simulated and run once per session (conftest)
    with connect(out / "unitcost.duckdb", read_only=True) as con:
        cur = con.execute("select * from marts.fct_recommendations")
        names = [c[0] for c in cur.description]
        recs = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    return Fleet(load_fleet_truth(out), out / "unitcost.duckdb", recs)


def _efficiency(fleet: Fleet, columns: str) -> list[dict]:
    """Rows of the redefined marts.fct_efficiency_daily (issue 11, point 2)."""
    with connect(fleet.duckdb_path, read_only=True) as con:
        try:
            cur = con.execute(f"select {columns} from marts.fct_efficiency_daily order by all")
        except duckdb.BinderException as exc:
            pytest.fail(f"marts.fct_efficiency_daily is not the redefined mart yet: {exc}")
        names = [c[0] for c in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _show(recs: list[dict]) -> list[tuple]:
    return [(r["deployment_id"] or r["instance_id"], r["kind"], r["target"]) for r in recs]


def _one(fleet: Fleet, label: str) -> dict:
    expected = fleet.truth.expected(label)
    found = [r for r in fleet.latest if expected.matches(r)]
    assert len(found) == 1, f"planted {label} ({expected.kind}): {_show(fleet.latest)}"
    return found[0]


# -- the spec itself ------------------------------------------------------------------------


@pytest.mark.parametrize("spec", [SPEC, DEFAULT_SPEC_PATH], ids=["second", "default"])
def test_spec_implies_no_efficiency_above_one(spec):
    """The simulated hardware is never faster than the catalog's peaks allow (issue 11,
    point 3). The second spec keeps a margin for the simulator's per-request speed jitter:
    a request 3σ faster than typical still implies MBU and MFU of at most 1."""
    margin = math.exp(3 * SPEED_SIGMA) if spec == SPEC else 1.0
    too_fast = [
        (e.deployment_id, e.gpu_id, round(e.mbu, 3), round(e.mfu, 3))
        for e in implied_efficiencies(spec)
        if e.mbu * margin > 1 or e.mfu * margin > 1
    ]
    assert too_fast == [], f"(deployment, gpu, implied MBU, implied MFU): {too_fast}"


# -- recommendations ------------------------------------------------------------------------


@pytest.mark.slow
def test_the_bill_read_here_is_the_simulators_ledger(fleet):
    """The independent bill reader agrees with the simulator's own billing ledger, so the
    truths below rest on the right prices."""
    ledger = fleet.truth.truth["billing"]["deployments"]
    assert set(ledger) == set(fleet.truth.truth["deployments"])
    for dep, days in ledger.items():
        read = fleet.truth.deployment_day_usd(dep)
        assert {d.isoformat() for d in read} == set(days)
        for day, usd in read.items():
            assert abs(usd - Decimal(days[day.isoformat()]["effective_usd"])) < Decimal("1e-6")


@pytest.mark.slow
@pytest.mark.parametrize("label", OPPORTUNITIES)
def test_planted_opportunity_is_found_with_its_target(fleet, label):
    expected = fleet.truth.expected(label)
    rec = _one(fleet, label)
    assert rec["kind"] == expected.kind
    target = parse_target(rec["target"])
    assert {k: target.get(k) for k in expected.target} == expected.target, rec["target"]


@pytest.mark.slow
@pytest.mark.parametrize("label", OPPORTUNITIES)
def test_planted_saving_is_what_the_bill_says(fleet, label):
    """Effective (amortized) USD per 365/12-day month, from the bill and the price list."""
    expected = fleet.truth.expected(label)
    rec = _one(fleet, label)
    assert float(rec["monthly_savings_usd"]) == pytest.approx(
        float(expected.monthly_savings_usd), rel=SAVINGS_TOLERANCE
    )


@pytest.mark.slow
def test_healthy_deployment_gets_no_recommendation(fleet):
    healthy = fleet.truth.healthy()
    assert healthy
    for label, facts in fleet.truth.truth["planted"].items():
        if facts["kind"] == "healthy":  # the run really was well utilised
            assert facts["mean_busy_fraction"] >= facts["min_busy_fraction"], label
    assert [r for r in fleet.recs if r["deployment_id"] in healthy] == []


@pytest.mark.slow
def test_no_recommendation_beyond_the_planted_ones(fleet):
    expected = [fleet.truth.expected(label) for label in OPPORTUNITIES]
    extra = [r for r in fleet.latest if not any(e.matches(r) for e in expected)]
    assert extra == [], _show(extra)


# -- modelled vs actual (the redefined fct_efficiency_daily, issue 11 point 2) --------------
# Written against the mart's new columns: modelled_cost_usd, actual_usage_cost_usd,
# modelled_to_actual_ratio, efficiency_source, calibration_days. Fails until it lands.


@pytest.mark.slow
def test_actual_usage_cost_is_the_busy_time_of_the_bill(fleet):
    rows = _efficiency(fleet, "usage_date, deployment_id, actual_usage_cost_usd")
    served = {
        (dep, dt.date.fromisoformat(day))
        for dep, d in fleet.truth.truth["deployments"].items()
        for day, v in d["days"].items()
        if v["requests"] > 0
    }
    assert {(r["deployment_id"], r["usage_date"]) for r in rows} == served
    off = []
    for r in rows:
        truth = fleet.truth.busy_usage_usd(r["deployment_id"], r["usage_date"])
        error = float(r["actual_usage_cost_usd"] / truth - 1)
        if abs(error) > USAGE_TOLERANCE:
            off.append((r["deployment_id"], str(r["usage_date"]), round(error, 5)))
    assert off == [], off


@pytest.mark.slow
def test_modelled_cost_is_within_the_bound_out_of_sample(fleet):
    rows = _efficiency(
        fleet,
        "usage_date, deployment_id, modelled_cost_usd, actual_usage_cost_usd, "
        "modelled_to_actual_ratio, efficiency_source, calibration_days",
    )
    ratios: dict[str, list[float]] = defaultdict(list)
    for r in rows:
        ratio = float(r["modelled_cost_usd"] / r["actual_usage_cost_usd"])
        assert r["modelled_to_actual_ratio"] == pytest.approx(ratio, rel=1e-9), r
        if r["efficiency_source"] != "calibrated":
            continue
        # out of sample: fitted on simulated days before this one only
        earlier = (r["usage_date"] - START).days
        assert 1 <= r["calibration_days"] <= earlier, r
        ratios[r["deployment_id"]].append(ratio)
    deployments = {r["deployment_id"] for r in rows}
    assert set(ratios) == deployments, "every deployment has days scored out of sample"
    errors = {dep: round(median_abs_error(rs), 4) for dep, rs in sorted(ratios.items())}
    assert max(errors.values()) <= MODELLED_BOUND, errors
