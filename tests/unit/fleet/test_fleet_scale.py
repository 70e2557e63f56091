"""--scale: ceil(S) copies of the fleet, S x the spec's traffic; a user spec via the CLI."""

from __future__ import annotations

import json

import polars as pl

from pipelines.fleet.cli import main
from pipelines.registry import load_registry


def test_scale_replicates_the_fleet_with_suffixed_ids(tmp_path, write_spec, capsys):
    spec = write_spec()
    assert (
        main(["--spec", str(spec), "--days", "1", "--scale", "2.5", "--out", str(tmp_path / "out")])
        == 0
    )
    assert "6 GPUs on 6 instances, 3 deployments" in capsys.readouterr().out
    truth = json.loads((tmp_path / "out" / "ground_truth.json").read_text())
    assert truth["run"]["copies"] == 3 and truth["run"]["gpus"] == 6
    assert sorted(truth["deployments"]) == ["tiny-8b", "tiny-8b-c001", "tiny-8b-c002"]
    # Each copy serves S / ceil(S) of the spec's 3,000 requests/day.
    expected = {d["expected_requests_per_day"] for d in truth["deployments"].values()}
    assert expected == {2500.0}
    registry = load_registry(tmp_path / "out" / "registry.yaml")
    hosts = {h.host for d in registry.deployments for h in d.match.hosts}
    assert hosts == {"node-a", "node-a-c001", "node-a-c002"}
    timeline = pl.read_parquet(tmp_path / "out" / "truth" / "timeline" / "**" / "*.parquet")
    assert timeline["instance_id"].n_unique() == 6 and timeline["gpu_count"].sum() == 6 * 24


def test_default_fleet_at_scale_32_is_over_1000_gpus():
    from pipelines.fleet.plan import build_plan
    from pipelines.fleet.simulate import DEFAULT_START
    from pipelines.fleet.spec import load_spec

    plan = build_plan(load_spec(), DEFAULT_START, 1, 32, 42)
    assert plan.gpu_count == 32 * load_spec_gpus() >= 1000
    assert len({i.id for i in plan.instances}) == len(plan.instances)
    assert len({u for i in plan.instances for u in i.gpu_uuids}) == plan.gpu_count


def load_spec_gpus() -> int:
    from pipelines.fleet.spec import load_spec

    return sum(i.gpu.count for i in load_spec().instances)


def test_scale_zero_bills_instances_but_serves_nothing(tmp_path, write_spec):
    assert (
        main(["--spec", str(write_spec()), "--days", "1", "--scale", "0", "--out", str(tmp_path)])
        == 0
    )
    truth = json.loads((tmp_path / "ground_truth.json").read_text())
    assert truth["totals"]["requests"] == 0
    assert truth["totals"]["cost_usd"] == "42.7776"  # (0.8048 + 0.9776) x 24
    assert pl.read_parquet(tmp_path / "truth" / "requests" / "**" / "*.parquet").height == 0


def test_user_spec_runs_and_writes_its_own_truth(tmp_path, write_spec, capsys):
    out = tmp_path / "fleet"
    assert (
        main(
            [
                "--spec",
                str(write_spec()),
                "--days",
                "2",
                "--seed",
                "3",
                "--out",
                str(out),
                "--duckdb",
                str(tmp_path / "wh" / "x.duckdb"),
            ]
        )
        == 0
    )
    truth = json.loads((out / "ground_truth.json").read_text())
    assert truth["run"]["spec_file"] == "spec.yaml" and truth["run"]["seed"] == 3
    assert truth["planted"]["spare"]["instance"] == "i-0123456789abcdef1"
    days = truth["deployments"]["tiny-8b"]["days"]
    assert sorted(days) == ["2026-11-01", "2026-11-02"]
    assert all(2500 < d["requests"] < 3500 for d in days.values())
    assert "duckdb_path: ../wh/x.duckdb" in (out / "unitcost.yaml").read_text()


def test_invalid_spec_exits_1_with_the_problem(tmp_path, write_spec, capsys):
    spec = write_spec(("max_batch: 16", "max_batch: 0"))
    assert main(["--spec", str(spec), "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert f"{spec}:17: deployments[0].service.max_batch: Input should be greater" in err


def test_billing_month_bills_every_day_of_the_month_beside_one_simulated_day(tmp_path, write_spec):
    out = tmp_path / "out"
    args = ["--spec", str(write_spec()), "--days", "1", "--start", "2026-11-15", "--scale", "0"]
    assert main([*args, "--billing-month", "--out", str(out)]) == 0
    truth = json.loads((out / "ground_truth.json").read_text())
    assert truth["run"]["billing_days"] == 30  # November
    # two instances at (0.8048 + 0.9776) USD/h, billed 30 × 24 h
    assert truth["totals"]["cost_usd"] == "1283.3280"
    cur = pl.read_parquet(out / "billing" / "cur2" / "**" / "*.parquet")
    hourly = cur.filter(pl.col("line_item_usage_type").str.contains("BoxUsage"))
    days = hourly["line_item_usage_start_date"].dt.date().unique()
    assert days.len() == 30 and str(days.min()) == "2026-11-01" and str(days.max()) == "2026-11-30"
    # the simulated day alone has telemetry and logs
    dcgm_days = sorted(p.name for p in (out / "telemetry" / "dcgm").iterdir())
    assert dcgm_days == ["date=2026-11-15"]


def test_dcgm_interval_sets_the_samples_per_gpu_day(tmp_path, write_spec):
    out = tmp_path / "out"
    args = ["--spec", str(write_spec()), "--days", "1", "--scale", "0", "--out", str(out)]
    assert main([*args, "--dcgm-interval-s", "10"]) == 0
    dcgm = pl.read_parquet(out / "telemetry" / "dcgm" / "**" / "*.parquet")
    truth = json.loads((out / "ground_truth.json").read_text())
    gap_host = truth["telemetry"]["dcgm"]["planted"]["gap"]["host"]
    per_gpu = dict(dcgm.group_by("Hostname").len().iter_rows())
    # 86,400 s / 10 s per GPU-day; the planted 10-minute exporter gap drops 600 s / 10 s
    assert per_gpu == {h: 8640 - 60 * (h == gap_host) for h in ("node-a", "node-b")}
    assert truth["telemetry"]["dcgm"]["interval_s"] == 10
    assert main([*args, "--dcgm-interval-s", "7"]) == 1  # 3,600 s is not a multiple of 7
