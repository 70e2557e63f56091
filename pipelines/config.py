"""The run configuration (``unitcost.yaml``): where the warehouse, the registry and each source are,
the dated exchange rates that turn non-USD bills into ``_usd`` figures (``billing:``), and the
recommendation engine's policy (``recommend:``, ``pipelines/recommend/config.py``).

Relative paths resolve against the config file's own folder, so a config written next to its
data (as ``unitcost simulate`` does) works from any working directory. Two environment
variables override the file, for deployments that template paths: ``UNITCOST_DUCKDB`` and
``UNITCOST_REGISTRY``. Credentials never appear here: S3 uses boto3's default chain.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator

from pipelines.ingest.requests import tenants
from pipelines.lake.paths import spark_uri
from pipelines.onprem.config import OnPremConfig
from pipelines.recommend.api_prices import ApiPrice, load_api_prices
from pipelines.recommend.config import RecommendConfig, resolve_api_prices
from pipelines.recommend.policy import Policy
from pipelines.yamlconf import StrictModel, blame, load_yaml_model

DEFAULT_DUCKDB_PATH = "var/unitcost.duckdb"
SOURCE_NAMES = ("billing", "telemetry", "requests")


class TraceFileConfig(StrictModel):
    """Whose traffic a request trace file is: traces carry no model, request id or host."""

    path: Annotated[str, Field(min_length=1)]  # file name or glob under the source location
    model_name: Annotated[str, Field(min_length=1)]  # as the registry's request_model_names
    host: str | None = None
    start: dt.datetime | None = None  # UTC time of offset 0 (mooncake timestamps are relative)


class FreshnessConfig(StrictModel):
    """When a source's data for a UTC day is due, and what a partition without it does.

    ``expected_by`` is a time of day (UTC) after the day ends: "09:00" means day D's data is
    due by D + 1 09:00 UTC. Before then a day without data is not yet late and passes.
    """

    expected_by: Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")] = "00:00"
    on_missing: Literal["warn", "fail"] = "warn"

    def due(self, day: dt.date) -> dt.datetime:
        hours, minutes = (int(x) for x in self.expected_by.split(":"))
        start = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), dt.UTC)
        return start + dt.timedelta(hours=hours, minutes=minutes)


class TenantConfig(StrictModel):
    """Which field of a request log names the tenant (``pipelines/ingest/requests/tenants.py``
    lists each format's choices); ``names`` maps a logged value to a tenant name (values not
    listed are kept as logged; ``user`` ids not listed are kept only as their hash)."""

    field: Annotated[str, Field(min_length=1)]
    key: str | None = None  # the header name (field: header) or spend_logs_metadata key
    names: dict[str, str] = {}

    @field_validator("names")
    @classmethod
    def _labels(cls, value: dict[str, str]) -> dict[str, str]:
        for raw, name in value.items():
            if not tenants.NAME.match(name):
                raise blame(
                    raw,
                    f"tenant name {name!r}: 1-64 letters, digits, space or ._:/@- "
                    "(starting with a letter or digit)",
                )
        return value


def local_or_s3(key: str, value: str) -> str:
    """A location is a local path or an ``s3://`` URI, nothing else."""
    if "://" in value and not value.startswith("s3://"):
        raise ValueError(f"{key} {value!r} must be a local path or an s3:// URI")
    return value


class SourceConfig(StrictModel):
    location: Annotated[str, Field(min_length=1)]
    format: (
        Literal["focus", "cur2", "cur1", "dcgm", "vllm_jsonl", "litellm", "azure_trace", "mooncake"]
        | None
    ) = None
    traces: list[TraceFileConfig] = []  # request traces only (azure_trace, mooncake)
    # The unit of epoch numbers in request logs (vllm_jsonl ``created``, Mooncake offsets):
    # None keeps each format's documented unit (seconds for ``created``, milliseconds for
    # Mooncake). Values whose magnitude disagrees with it fail the file (RELIABILITY case 11).
    epoch_unit: Literal["s", "ms", "us"] | None = None
    # Expected arrival, checked per partition by ``data_arrived`` (pipelines/assets/freshness.py);
    # unset: due when the day ends, and a day without data warns.
    freshness: FreshnessConfig = FreshnessConfig()
    # Request logs only: who asked (unset: every request is `unattributed` in the marts).
    tenant: TenantConfig | None = None

    @model_validator(mode="after")
    def _tenant_field(self) -> SourceConfig:
        if self.tenant is None:
            return self
        fmt = self.format or "vllm_jsonl"
        choices = tenants.CHOICES.get(fmt)
        if choices is None:
            raise blame("tenant", f"format {fmt} logs no tenant")
        if self.tenant.field not in choices:
            raise blame(
                "tenant.field",
                f"{self.tenant.field!r} is not a {fmt} tenant field; one of: {', '.join(choices)}",
            )
        if tenants.needs_key(fmt, self.tenant.field):
            if self.tenant.key is None or not tenants.KEY.match(self.tenant.key):
                raise blame(
                    "tenant.key",
                    f"field {self.tenant.field} needs a key "
                    "(letters, digits, _ or -), e.g. x-tenant-id",
                )
        elif self.tenant.key is not None:
            raise blame("tenant.key", f"field {self.tenant.field} takes no key")
        return self

    @field_validator("location")
    @classmethod
    def _local_or_s3(cls, value: str) -> str:
        return local_or_s3("location", value)


class S3Config(StrictModel):
    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None  # for S3-compatible stores and tests (moto)


class LakeConfig(StrictModel):
    """The Parquet lake (``pipelines/lake``): the raw tables dbt reads, also written as
    Parquet under ``root`` (a local folder or an ``s3://`` prefix) after each run's ingest,
    for a second engine (``engine: spark``) to read. Off unless ``lake:`` is set."""

    root: Annotated[str, Field(min_length=1)]
    enabled: bool = True

    @field_validator("root")
    @classmethod
    def _local_or_s3(cls, value: str) -> str:
        return local_or_s3("root", value)


# The dbt target (profiles.yml) each engine runs the models on; UNITCOST_DBT_TARGET, if set,
# names another (e.g. a Databricks or EMR output of the Spark profile: docs/scale-out.md).
DBT_TARGETS = {"duckdb": "dev", "spark": "spark"}
DBT_TARGET_ENV = "UNITCOST_DBT_TARGET"
# What the spark target reads its sources from (macros/cross_engine/lake.sql on branch spark).
LAKE_ROOT_ENV = "UNITCOST_LAKE_ROOT"


# USD per unit of the currency, as DECIMAL(20,10) in raw.fx_rates_usd: at most 10 digits
# either side of the point. A rate with more decimals is refused, never rounded.
_RATE = re.compile(r"^[0-9]{1,10}(\.[0-9]{1,10})?$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


def _decimal_string(value: object) -> Decimal:
    if not isinstance(value, str):
        # YAML reads 1.08 as a binary float; money conversion must start from exact digits
        raise ValueError(f'write the rate as a quoted decimal string, e.g. "1.08" (got {value!r})')
    if not _RATE.match(value.strip()):
        raise ValueError(
            f"rate {value!r} must be a plain decimal (USD per unit), at most 10 digits "
            "before and 10 after the point"
        )
    rate = Decimal(value.strip())
    if rate <= 0:
        raise ValueError(f"rate {value!r} must be greater than 0")
    return rate


class FxRate(StrictModel):
    """USD per one unit of a currency, for billing periods starting on or after ``from``
    until the next entry's ``from`` (the last entry has no end)."""

    valid_from: dt.date = Field(alias="from")
    rate: Annotated[Decimal, BeforeValidator(_decimal_string)]


class BillingConfig(StrictModel):
    """How bills are read: ``fx_rates_usd`` converts a non-USD bill's money for ``_usd``
    columns (allocation itself stays in the bill's currency). A bill in a currency without a
    rate covering its billing period fails its ingest (RELIABILITY case 8)."""

    fx_rates_usd: dict[str, list[FxRate]] = {}

    @field_validator("fx_rates_usd")
    @classmethod
    def _dated_rates(cls, value: dict[str, list[FxRate]]) -> dict[str, list[FxRate]]:
        for currency, rates in value.items():
            if not _CURRENCY.match(currency):
                raise ValueError(f"currency {currency!r} must be an ISO 4217 code, e.g. EUR")
            if currency == "USD":
                raise blame(currency, "USD needs no rate: it is the currency rates convert to")
            if not rates:
                raise blame(currency, 'give at least one {from: YYYY-MM-DD, rate: "1.08"}')
            dates = [r.valid_from for r in rates]
            if len(set(dates)) != len(dates):
                raise blame(currency, "two rates from the same date")
        return {c: sorted(r, key=lambda x: x.valid_from) for c, r in value.items()}


class RunConfig(StrictModel):
    duckdb_path: Annotated[str, Field(min_length=1)] = DEFAULT_DUCKDB_PATH
    # the Dagster instance `unitcost run` records its runs in (and `make dev` shows); default
    # `dagster/` beside the warehouse; DAGSTER_HOME in the environment wins, as in Dagster
    dagster_home: Annotated[str, Field(min_length=1)] | None = None
    registry: Annotated[str, Field(min_length=1)]
    sources: dict[Literal["billing", "telemetry", "requests"], SourceConfig] = {}
    s3: S3Config = S3Config()
    billing: BillingConfig = BillingConfig()
    recommend: RecommendConfig = RecommendConfig()
    onprem: OnPremConfig | None = None  # GPUs without a cloud bill (pipelines/onprem)
    lake: LakeConfig | None = None  # raw tables also as Parquet (pipelines/lake)
    engine: Literal["duckdb", "spark"] = "duckdb"  # where dbt runs: docs/scale-out.md

    @model_validator(mode="after")
    def _spark_reads_the_lake(self) -> RunConfig:
        if self.engine == "spark" and (self.lake is None or not self.lake.enabled):
            raise blame(
                "engine",
                "engine spark reads the raw tables from the Parquet lake: "
                "set lake: {root: <folder or s3:// prefix>, enabled: true}",
            )
        return self


@dataclass(frozen=True)
class Settings:
    """A validated config with every path resolved."""

    config_path: Path
    duckdb_path: Path
    registry_path: Path
    sources: dict[str, SourceConfig]
    s3: S3Config
    recommend: RecommendConfig = RecommendConfig()
    billing: BillingConfig = BillingConfig()
    dagster_home: Path | None = None  # None: dagster/ beside the warehouse
    onprem: OnPremConfig | None = None
    lake_root: str | Path | None = None  # None: no lake; a Path, or an s3:// URI string
    engine: str = "duckdb"

    @property
    def lake_env(self) -> dict[str, str]:
        """``UNITCOST_LAKE_ROOT`` for dbt on Spark (the folder holding ``raw/``; ``s3a://``
        for an S3 root), unless already set in the environment; empty without a lake."""
        if self.lake_root is None or os.environ.get(LAKE_ROOT_ENV):
            return {}
        return {LAKE_ROOT_ENV: spark_uri(self.lake_root)}

    @property
    def dbt_target(self) -> str:
        """The profiles.yml target dbt runs on: ``UNITCOST_DBT_TARGET``, else the engine's."""
        return os.environ.get(DBT_TARGET_ENV) or DBT_TARGETS[self.engine]

    @property
    def dagster_instance_dir(self) -> Path:
        """Where runs are recorded: DAGSTER_HOME, else ``dagster_home``, else ``dagster/``
        beside the warehouse (``var/dagster`` for ``make run``, which ``make dev`` shows)."""
        home = os.environ.get("DAGSTER_HOME")
        if home:
            return Path(home).resolve()
        return self.dagster_home or self.duckdb_path.parent / "dagster"

    @property
    def policy(self) -> Policy:
        """The engine's thresholds: ``recommend.policy`` over ``Policy()``'s defaults."""
        return self.recommend.policy.to_policy()

    @property
    def api_prices_path(self) -> Path | None:
        """``recommend.api_prices`` resolved, or None for the shipped table."""
        if self.recommend.api_prices is None:
            return None
        return resolve_api_prices(self.recommend.api_prices, self.config_path.parent)

    def api_prices(self) -> tuple[ApiPrice, ...] | None:
        """The configured API price table, or None (the engine then uses the shipped one)."""
        path = self.api_prices_path
        return None if path is None else load_api_prices(path)

    def source_location(self, name: str) -> str | Path | None:
        """The source's folder as a Path, its ``s3://`` URI as a string, or None if absent."""
        source = self.sources.get(name)
        if source is None:
            return None
        if source.location.startswith("s3://"):
            return source.location
        return _resolve(self.config_path.parent, source.location)


def _resolve(base: Path, value: str) -> Path:
    path = Path(value).expanduser()
    return (path if path.is_absolute() else base / path).resolve()


def load_settings(config_path: str | Path) -> Settings:
    """Validate ``config_path`` and resolve its paths (environment overrides applied)."""
    config_path = Path(config_path).resolve()
    base = config_path.parent
    raw = load_yaml_model(config_path, RunConfig, context={"base_dir": base})
    duckdb = os.environ.get("UNITCOST_DUCKDB") or None
    registry = os.environ.get("UNITCOST_REGISTRY") or None
    return Settings(
        config_path=config_path,
        duckdb_path=Path(duckdb).resolve() if duckdb else _resolve(base, raw.duckdb_path),
        registry_path=Path(registry).resolve() if registry else _resolve(base, raw.registry),
        sources=dict(raw.sources),
        s3=raw.s3,
        recommend=raw.recommend,
        billing=raw.billing,
        dagster_home=_resolve(base, raw.dagster_home) if raw.dagster_home else None,
        onprem=raw.onprem,
        lake_root=_lake_root(base, raw.lake),
        engine=raw.engine,
    )


def _lake_root(base: Path, lake: LakeConfig | None) -> str | Path | None:
    if lake is None or not lake.enabled:
        return None
    return lake.root if lake.root.startswith("s3://") else _resolve(base, lake.root)


@contextlib.contextmanager
def exported(values: Mapping[str, str]) -> Iterator[None]:
    """Set ``values`` in ``os.environ`` for the block, then put back what was there. For
    what reads the environment rather than taking arguments: Dagster's ``EnvVar``, dbt's
    ``env_var()`` in the profile and macros, a child process started inside the block."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
