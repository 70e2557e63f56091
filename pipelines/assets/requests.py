"""Request logs: one UTC day of inference requests and their quarantine, replaced whole.

The logic is ``pipelines/ingest/requests`` (no dagster there). Metadata holds counts and file
names only: never a log line, a field value or a user id (RELIABILITY.md §5).
"""

from collections import Counter

import dagster as dg

from pipelines.ingest.requests.day import ingest_day
from pipelines.ingest.requests.load import MAX_MALFORMED_RATIO, RequestLoader, token_limits
from pipelines.ingest.requests.privacy import salt_from_env
from pipelines.partitions import daily_partitions, window_days
from pipelines.registry import load_registry
from pipelines.resources import UnitcostConfigResource, WarehouseResource

OWNERS = ["team:unitcost"]
SOURCE = "requests"
REQUESTS_KEY = dg.AssetKey(["raw", "inference_requests"])
QUARANTINE_KEY = dg.AssetKey(["raw", "quarantine_requests"])
_SPEC = {"group_name": "requests", "kinds": {"duckdb", "polars"}, "owners": OWNERS}

CHECKS = [
    dg.AssetCheckSpec(
        "malformed_lines_within_limit",
        asset=REQUESTS_KEY,
        blocking=True,
        description="No log file read has more than 1 % malformed lines.",
    ),
    dg.AssetCheckSpec(
        "token_counts_plausible",
        asset=REQUESTS_KEY,
        blocking=True,
        description="Tokens are non-negative and cached tokens never exceed prompt tokens.",
    ),
    dg.AssetCheckSpec(
        "request_ids_unique",
        asset=REQUESTS_KEY,
        blocking=True,
        description="One row per (request_source, request_id) in the partition.",
    ),
]


def _loader(unitcost: UnitcostConfigResource) -> tuple[RequestLoader | None, list]:
    settings = unitcost.settings()
    source = settings.sources.get(SOURCE)
    if source is None:
        return None, []
    limits = token_limits(load_registry(settings.registry_path))
    loader = RequestLoader(
        SOURCE, source, settings.source_location(SOURCE), limits, salt_from_env(), settings.s3
    )
    return loader, loader.files()


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            REQUESTS_KEY,
            description="One row per inference request (by arrival day): tokens, latency, no text.",
            **_SPEC,
        ),
        dg.AssetSpec(
            QUARANTINE_KEY,
            description="One row per rejected request-log line: file, line, field, reason.",
            **_SPEC,
        ),
    ],
    check_specs=CHECKS,
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool="duckdb",
)
def request_log_tables(
    context: dg.AssetExecutionContext, unitcost: UnitcostConfigResource, duckdb: WarehouseResource
):
    """Load request logs day by day; each day's rows and quarantine replace that day's."""
    loader, files = _loader(unitcost)
    days = window_days(context.partition_time_window)
    rows = quarantined = 0
    worst = 0.0
    reasons: Counter[str] = Counter()
    duplicates: Counter[str] = Counter()
    with duckdb.get_connection() as con:
        for day in days:
            loaded = ingest_day(con, loader, day, files, days)
            rows += loaded.rows
            quarantined += loaded.quarantine.height
            worst = max(worst, loaded.worst_malformed_ratio)
            duplicates.update(loaded.exact_duplicates)
            reasons.update(loaded.quarantine["column_name"].fill_null("(line)").to_list())
        checks = _check_results(con, context.partition_time_window, worst)
    if duplicates:
        # Dropping a repeated delivery is right (case 29) but must never be silent.
        context.log.warning(
            f"dropped {duplicates.total()} exact duplicate request line(s) "
            f"in {len(duplicates)} file(s); counts by file in the asset metadata"
        )
    common = {"source_files": len(files), "days": len(days)}
    yield dg.MaterializeResult(
        asset_key=REQUESTS_KEY,
        metadata={
            **common,
            "dagster/row_count": rows,
            "worst_malformed_ratio": worst,
            "exact_duplicates_dropped": duplicates.total(),
            "exact_duplicates_by_file": dict(sorted(duplicates.items())),
        },
    )
    yield dg.MaterializeResult(
        asset_key=QUARANTINE_KEY,
        metadata={**common, "dagster/row_count": quarantined, "by_field": dict(reasons)},
    )
    yield from checks


def _check_results(con, window: dg.TimeWindow, worst: float) -> list[dg.AssetCheckResult]:
    params = [window.start, window.end]
    where = "where arrival_ts >= ? and arrival_ts < ?"
    implausible = con.execute(
        "select count(*) from raw.inference_requests "
        f"{where} and (input_tokens < 0 or output_tokens < 0 or cached_tokens < 0 "
        "or cached_tokens > input_tokens)",
        params,
    ).fetchone()[0]
    duplicates = con.execute(
        "select coalesce(sum(n - 1), 0) from (select count(*) as n from raw.inference_requests "
        f"{where} group by request_source, request_id)",
        params,
    ).fetchone()[0]
    return [
        dg.AssetCheckResult(
            check_name="malformed_lines_within_limit",
            asset_key=REQUESTS_KEY,
            passed=worst <= MAX_MALFORMED_RATIO,
            metadata={"worst_file_malformed_ratio": worst},
        ),
        dg.AssetCheckResult(
            check_name="token_counts_plausible",
            asset_key=REQUESTS_KEY,
            passed=implausible == 0,
            metadata={"implausible_rows": implausible},
        ),
        dg.AssetCheckResult(
            check_name="request_ids_unique",
            asset_key=REQUESTS_KEY,
            passed=duplicates == 0,
            metadata={"duplicate_rows": int(duplicates)},
        ),
    ]
