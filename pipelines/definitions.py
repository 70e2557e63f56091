"""The one place unitcost's Dagster ``Definitions`` are assembled."""

import dagster as dg

from pipelines.assets.billing import billing_line_items, instance_types
from pipelines.assets.checks import cross_source_checks
from pipelines.assets.dbt import dbt_models, dbt_recommend_models
from pipelines.assets.freshness import freshness_checks
from pipelines.assets.lake import lake_raw_tables, lake_recommend_tables
from pipelines.assets.onprem import onprem_hosts
from pipelines.assets.quality import quality_checks
from pipelines.assets.recommend import recommend_tables
from pipelines.assets.registry import gpu_catalog, llm_architectures, registry_tables
from pipelines.assets.report import weekly_report
from pipelines.assets.requests import request_log_tables
from pipelines.assets.telemetry import telemetry_tables
from pipelines.jobs import build_jobs, daily_hour_utc
from pipelines.resources import build_resources

assets = [registry_tables, llm_architectures, gpu_catalog, dbt_models]
assets += [request_log_tables]
assets += [billing_line_items, instance_types]
assets += [telemetry_tables]
assets += [onprem_hosts]
assets += [recommend_tables, dbt_recommend_models]
assets += [weekly_report]
assets += [lake_raw_tables, lake_recommend_tables]
jobs, schedules = build_jobs(assets, daily_hour_utc())

defs = dg.Definitions(
    assets=assets,
    asset_checks=cross_source_checks + quality_checks + freshness_checks,
    jobs=jobs,
    schedules=schedules,
    resources=build_resources(),
)
