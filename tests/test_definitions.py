"""Definitions load, and every asset carries what an operator needs to find and trust it."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import tomllib
from pathlib import Path

import dagster as dg
import pytest
import yaml

from pipelines import jobs

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def defs(dbt_manifest):
    from pipelines.definitions import defs

    return defs


def test_definitions_resolve_a_job_over_every_asset(defs):
    assert defs.resolve_implicit_global_asset_job_def() is not None


def test_definitions_load_as_dagster_dev_loads_them(defs):
    # What the code server does: a job named like an asset's op (the report's
    # `weekly_report`) passes everything above and fails here ("Conflicting definitions").
    dg.Definitions.validate_loadable(defs)


def test_every_asset_has_group_kinds_owner_and_one_line_description(defs):
    specs = defs.resolve_all_asset_specs()
    problems = []
    for spec in specs:
        name = spec.key.to_user_string()
        if not spec.group_name or spec.group_name == "default":
            problems.append(f"{name}: no group")
        if not spec.kinds:
            problems.append(f"{name}: no kinds")
        if not spec.owners:
            problems.append(f"{name}: no owner")
        if not spec.description or "\n" in spec.description.strip():
            problems.append(f"{name}: description missing or not one line")
    assert problems == []


# A snapshot of the asset graph: a change to it shows up in review, on purpose.
EXPECTED_ASSETS = {
    "raw/registry_deployments": "registry",
    "raw/registry_selectors": "registry",
    "raw/registry_prefill_rates": "registry",
    "raw/llm_architectures": "registry",
    "raw/gpu_catalog": "registry",
    "staging/stg_registry__deployments": "staging",
    "staging/stg_registry__selectors": "staging",
    "staging/stg_registry__prefill_rates": "staging",
    "staging/stg_catalog__llms": "staging",
    "staging/stg_catalog__gpus": "staging",
    "intermediate/int_registry__resource_claims": "intermediate",
    "marts/dim_deployments": "marts",
    "marts/deployment_days": "marts",
    "raw/billing_line_items": "billing",
    "raw/billing_deliveries": "billing",
    "raw/instance_types": "billing",
    "raw/fx_rates_usd": "billing",
    "staging/stg_billing__line_items": "staging",
    "staging/stg_billing__instance_types": "staging",
    "staging/stg_billing__fx_rates_usd": "staging",
    "intermediate/int_billing__gpu_line_items": "intermediate",
    "intermediate/int_billing__usd_rates": "intermediate",
    "raw/onprem_hosts": "onprem",
    "staging/stg_onprem__hosts": "staging",
    "intermediate/int_onprem__line_items": "intermediate",
    "intermediate/int_billing__line_items": "intermediate",
    "raw/inference_requests": "requests",
    "raw/quarantine_requests": "requests",
    "staging/stg_requests__inference_requests": "staging",
    "intermediate/int_requests__mapped": "intermediate",
    "intermediate/int_requests__deployment_hourly": "intermediate",
    "raw/dcgm_samples": "telemetry",
    "raw/engine_metric_samples": "telemetry",
    "raw/engine_series": "telemetry",
    "raw/dcgm_series": "telemetry",
    "raw/quarantine_telemetry": "telemetry",
    "staging/stg_telemetry__dcgm_samples": "staging",
    "staging/stg_telemetry__engine_metric_samples": "staging",
    "staging/stg_telemetry__engine_series": "staging",
    "intermediate/int_telemetry__gpu_minute": "intermediate",
    "intermediate/int_telemetry__gpu_hourly": "intermediate",
    "intermediate/int_engine__hourly": "intermediate",
    "intermediate/int_billing__cost_pieces": "intermediate",
    "intermediate/int_allocation__gpu_assignments": "intermediate",
    "intermediate/int_allocation__gpu_hours": "intermediate",
    "intermediate/int_billing__commitment_coverage": "intermediate",
    "intermediate/int_requests__gpu_time_hourly": "intermediate",
    "intermediate/int_requests__phases": "intermediate",
    "intermediate/int_requests__replica_sweep": "intermediate",
    "marts/fct_cost_allocation_daily": "marts",
    "marts/fct_cost_per_token_daily": "marts",
    "intermediate/int_requests__tenant_hourly": "intermediate",
    "marts/fct_cost_by_tenant_daily": "marts",
    "intermediate/int_prefix_cache__hourly": "intermediate",
    "marts/fct_prefix_cache_daily": "marts",
    "raw/predicted_efficiency_daily": "recommend",
    "raw/recommendations": "recommend",
    "marts/fct_efficiency_daily": "marts",
    "marts/fct_gpu_busy_hourly": "marts",
    "marts/fct_recommendations": "marts",
    "marts/fct_saturation_hourly": "marts",
    "marts/fct_reserved_capacity_daily": "marts",
    "reports/weekly_rightsizing": "report",
    "lake/raw_tables": "lake",
    "lake/recommend_tables": "lake",
}


def test_asset_graph_matches_the_snapshot_with_dbt_layers_as_groups(defs):
    groups = {s.key.to_user_string(): s.group_name for s in defs.resolve_all_asset_specs()}
    assert groups == EXPECTED_ASSETS


def test_daily_models_are_partitioned_and_snapshots_are_not(defs):
    from pipelines.partitions import daily_partitions

    specs = {s.key.to_user_string(): s for s in defs.resolve_all_asset_specs()}
    assert specs["marts/deployment_days"].partitions_def == daily_partitions
    assert specs["marts/fct_recommendations"].partitions_def == daily_partitions
    assert specs["marts/dim_deployments"].partitions_def is None
    assert specs["staging/stg_registry__deployments"].partitions_def is None


def test_a_run_makes_two_dbt_invocations_the_dimensions_with_the_daily_models(defs):
    from pipelines.jobs import DAILY_JOB, SNAPSHOT_JOB

    def dbt_steps(job_name):
        job = defs.resolve_job_def(job_name)
        return sorted(n.name for n in job.graph.nodes if n.name.startswith("dbt_"))

    # One `dbt build` before the recommendation engine (dimensions and daily models), one
    # after it (the recommendation marts, which read what it writes): pipelines/assets/dbt.py.
    assert dbt_steps(SNAPSHOT_JOB) == []
    assert dbt_steps(DAILY_JOB) == ["dbt_models", "dbt_recommend_models"]
    daily = defs.resolve_job_def(DAILY_JOB).asset_layer.selected_asset_keys
    assert {"marts/dim_deployments", "marts/deployment_days"} <= {k.to_user_string() for k in daily}


def test_workspace_points_at_the_one_definitions_module():
    workspace = yaml.safe_load((ROOT / "workspace.yaml").read_text())
    (entry,) = workspace["load_from"]
    dg_project = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["dg"]["project"]
    assert entry["python_module"]["module_name"] == dg_project["code_location_target_module"]
    assert dg_project["code_location_target_module"] == "pipelines.definitions"


def test_definitions_are_built_in_one_place_only():
    hits = subprocess.run(
        ["grep", "-rl", "dg.Definitions(", str(ROOT / "pipelines")],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    assert [Path(h).relative_to(ROOT).as_posix() for h in hits] == ["pipelines/definitions.py"]


@pytest.mark.parametrize(
    "package",
    ["checks", "costmodel", "fleet", "recommend", "registry", "config", "yamlconf", "report"]
    + ["quality", "lake"],
)
def test_pure_logic_never_imports_dagster(package):
    code = (
        f"import sys, pkgutil, importlib; import pipelines.{package} as p\n"
        "for m in pkgutil.walk_packages(getattr(p, '__path__', []), p.__name__ + '.'):\n"
        "    importlib.import_module(m.name)\n"
        "print(sorted(x for x in ('dagster', 'dagster_dbt') if x in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_daily_job_runs_the_cross_source_checks(defs):
    job = defs.resolve_job_def("daily")
    checks = {k.name for k in job.asset_layer.asset_graph.asset_check_keys}
    assert {"billed_gpu_hours_seen_by_telemetry", "logged_tokens_match_engine_counters"} <= checks
    assert "assert_cost_allocation_conserves_billing" in checks  # the blocking dbt test


RAW_SOURCES = [
    "raw/billing_line_items",
    "raw/dcgm_samples",
    "raw/engine_metric_samples",
    "raw/inference_requests",
]


def test_every_raw_source_has_blocking_partitioned_quality_checks(defs):
    checks = {
        key.to_user_string(): (spec.blocking, check.partitions_def)
        for check in defs.asset_checks
        for key, spec in zip(check.check_keys, check.check_specs, strict=True)
    }
    expected = {f"{s}:great_expectations" for s in RAW_SOURCES}
    expected |= {
        f"{s}:rows_accounted_for"
        for s in ["raw/billing_line_items", "raw/dcgm_samples", "raw/inference_requests"]
    }
    assert expected <= set(checks)
    assert all(checks[k][0] and checks[k][1] is not None for k in expected)
    job = defs.resolve_job_def("daily")
    in_job = {k.to_user_string() for k in job.asset_layer.asset_graph.asset_check_keys}
    assert expected <= in_job


def test_schedules_ship_stopped_the_daily_one_at_the_configured_hour(defs, monkeypatch):
    # Dagster's convention: a schedule running by default would build days a fleet has no
    # data for; README says how to start them.
    def schedules(d):
        resolved = [d.resolve_schedule_def(s.name) for s in d.schedules]
        return {s.name: (s.cron_schedule, s.default_status) for s in resolved}

    stopped = dg.DefaultScheduleStatus.STOPPED
    assert schedules(defs) == {
        "refresh_snapshots_schedule": ("0 5 * * *", stopped),
        "daily_schedule": ("0 6 * * *", stopped),
        # Mondays, an hour after the daily job
        "weekly_rightsizing_report_schedule": ("0 7 * * 1", stopped),
    }
    monkeypatch.setenv(jobs.DAILY_HOUR_ENV, "0")
    later_jobs, later = jobs.build_jobs(list(defs.assets), jobs.daily_hour_utc())
    at_midnight = dg.Definitions(
        assets=list(defs.assets), jobs=later_jobs, schedules=later, resources=defs.resources
    )
    # the snapshot refresh an hour before, across midnight
    assert schedules(at_midnight) == {
        "refresh_snapshots_schedule": ("0 23 * * *", stopped),
        "daily_schedule": ("0 0 * * *", stopped),
        "weekly_rightsizing_report_schedule": ("0 1 * * 1", stopped),
    }
    # the daily job at 23:00 builds Sunday late on Monday: the report follows on Tuesday 00:00
    # and still reports that Sunday's week
    monkeypatch.setenv(jobs.DAILY_HOUR_ENV, "23")
    late_jobs, late = jobs.build_jobs(list(defs.assets), jobs.daily_hour_utc())
    at_23 = dg.Definitions(
        assets=list(defs.assets), jobs=late_jobs, schedules=late, resources=defs.resources
    )
    report = at_23.resolve_schedule_def("weekly_rightsizing_report_schedule")
    assert report.cron_schedule == "0 0 * * 2"
    tick = dt.datetime(2026, 11, 10, 0, tzinfo=dt.UTC)  # Tuesday
    with dg.build_schedule_context(
        scheduled_execution_time=tick, repository_def=at_23.get_repository_def()
    ) as context:
        (request,) = report.evaluate_tick(context).run_requests
    assert request.partition_key == "2026-11-08"
    monkeypatch.setenv(jobs.DAILY_HOUR_ENV, "24")
    with pytest.raises(ValueError, match="UNITCOST_DAILY_HOUR_UTC must be an hour from 0 to 23"):
        jobs.daily_hour_utc()


def test_the_weekly_report_is_its_own_job_for_the_sunday_before_each_monday_tick(defs):
    from pipelines.jobs import DAILY_JOB, WEEKLY_REPORT_JOB

    def selected(job_name):
        job = defs.resolve_job_def(job_name)
        return {k.to_user_string() for k in job.asset_layer.selected_asset_keys}

    assert selected(WEEKLY_REPORT_JOB) == {"reports/weekly_rightsizing"}
    assert "reports/weekly_rightsizing" not in selected(DAILY_JOB)
    assert "marts/fct_recommendations" in selected(DAILY_JOB)

    schedule = defs.resolve_schedule_def("weekly_rightsizing_report_schedule")
    # Monday 2026-11-09 07:00 UTC reports the week Monday 2026-11-02 .. Sunday 2026-11-08.
    tick = dt.datetime(2026, 11, 9, 7, tzinfo=dt.UTC)
    repository = defs.get_repository_def()
    with dg.build_schedule_context(
        scheduled_execution_time=tick, repository_def=repository
    ) as context:
        (request,) = schedule.evaluate_tick(context).run_requests
    assert request.partition_key == "2026-11-08"
    assert tick.weekday() == 0  # a Monday, so the cron above is the one that fired


def test_dbt_models_that_read_a_lake_table_run_after_the_lake_export(defs):
    # dbt on Spark reads the raw tables from the lake: the models reading them directly must
    # wait for the window's export (pipelines/assets/lake.py), in the daily job.
    from pipelines.jobs import DAILY_JOB

    lake = dg.AssetKey(["lake", "raw_tables"])
    specs = {s.key.to_user_string(): s for s in defs.resolve_all_asset_specs()}

    def upstream(name):
        return {d.asset_key for d in specs[name].deps}

    for name in ("staging/stg_requests__inference_requests", "staging/stg_registry__deployments"):
        assert lake in upstream(name), name
    # models that read other models do not; the recommendation marts wait for the engine's
    # tables in the lake, which wait for the engine
    recommend_lake = dg.AssetKey(["lake", "recommend_tables"])
    assert lake not in upstream("marts/fct_cost_allocation_daily")
    assert upstream("marts/fct_recommendations") >= {recommend_lake}
    assert lake not in upstream("marts/fct_recommendations")
    assert dg.AssetKey(["raw", "inference_requests"]) in upstream("lake/raw_tables")
    assert dg.AssetKey(["raw", "recommendations"]) in upstream("lake/recommend_tables")
    daily = defs.resolve_job_def(DAILY_JOB).asset_layer.selected_asset_keys
    assert {lake, recommend_lake} <= daily
