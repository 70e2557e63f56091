"""The dbt unit tests (allocation edge cases, cost-per-token split) pass on DuckDB, and the
documented marts make a dbt docs catalog.

dbt unit tests read their inputs' column types from the warehouse: they run on the session's
small simulated fleet (read only: unit tests and docs generate write nothing to it). dbt runs
in its own process: in-process, dbt-duckdb keeps its connection open after the command, and
later read-only opens of the same file in this process would fail.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from pipelines.dbt_project import DBT_EXECUTABLE, DBT_PROJECT_DIR

pytestmark = pytest.mark.slow


def _dbt(args: list[str], duckdb_path, target) -> subprocess.CompletedProcess:
    common = ["--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)]
    return subprocess.run(
        [DBT_EXECUTABLE, *args, *common, "--target-path", str(target)],
        env={**os.environ, "UNITCOST_DUCKDB": str(duckdb_path)},
        capture_output=True,
        text=True,
        check=False,
    )


def test_dbt_unit_tests_pass_and_docs_generate(small_fleet, tmp_path):
    duckdb_path = small_fleet[0] / "unitcost.duckdb"
    result = _dbt(["test", "--select", "test_type:unit"], duckdb_path, tmp_path / "target")
    assert result.returncode == 0, result.stdout[-3000:]
    runs = json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
    passed = {r["unique_id"].rsplit(".", 1)[-1] for r in runs if r["status"] == "pass"}
    assert {
        "gpu_hours_split_busy_idle_and_unallocated",
        "pieces_prorate_partial_hours_exactly_and_keep_credits_at_period_level",
        "coverage_names_the_commitment_and_its_end_and_keeps_on_demand_apart",
        "overlapping_requests_share_wall_time_by_phase_queue_wait_excluded",
        "two_replicas_on_one_host_are_swept_apart",
        "per_request_concurrency_is_the_mean_on_its_replica_over_its_decode_and_life",
        "stretches_go_to_the_hour_they_start_in_and_a_shared_stream_spreads_its_requests",
        "prefill_is_compute_not_queue_wait",
        "gpu_hour_with_samples_but_no_utilisation_signal_is_unobserved_not_busy",
        "cost_per_token_splits_by_gpu_time_falls_back_to_token_ratio_and_keeps_zero_token_days",
        "cost_per_token_converts_each_bill_to_usd_at_its_billing_periods_rate",
        "each_billing_period_takes_the_rate_valid_on_its_first_day",
        "charges_spanning_days_are_prorated_by_overlap_and_purchases_stay_whole_at_period_level",
        "requests_are_flagged_outside_telemetry_only_beyond_the_skew_tolerance",
        "a_minute_with_part_of_its_samples_without_a_busy_signal_measures_only_those",
        "an_hour_with_a_busy_signal_in_half_its_minutes_is_busy_over_those_minutes",
        "saturation_hour_pools_both_servers_scrapes_and_sums_their_preemptions",
        "preemption_counter_deltas_survive_a_restart",
        "busy_share_is_of_observed_gpu_hours_and_null_when_none_observed",
        "tenants_share_replica_time_one_over_concurrency_per_hour",
        "unused_reserved_gpu_capacity_is_priced_per_day_in_usd",
        "a_split_beside_its_origin_is_traced_not_counted_and_a_split_alone_counts",
        "tenants_split_each_hour_by_gpu_time_exactly_else_by_tokens_else_unattributed",
        "onprem_host_day_is_priced_by_component_and_missing_energy_at_fallback_power",
        "prefix_cache_saving_prices_cached_tokens_at_the_days_computed_prefill_token",
    } <= passed

    docs = _dbt(["docs", "generate"], duckdb_path, tmp_path / "target")
    assert docs.returncode == 0, docs.stdout[-3000:]
    catalog = (tmp_path / "target" / "catalog.json").read_text()
    assert "model.unitcost.fct_cost_per_token_daily" in catalog
