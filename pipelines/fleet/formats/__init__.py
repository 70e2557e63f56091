"""Writers that render the simulated fleet in each real source format.

The core simulation writes the truth streams (``truth/timeline`` and ``truth/requests``,
Parquet). Each writer here reads them back one day at a time and writes one real format
(billing exports, DCGM scrapes, request logs) into its own folder, returning the
``unitcost.yaml`` source entry that points at it and what it adds to the ground truth.
Writers never see each other's output, so each can be tested alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.fleet.plan import FleetPlan


@dataclass(frozen=True)
class SimulationContext:
    """What a format writer may read: the plan and the truth streams already on disk."""

    out: Path
    plan: FleetPlan
    # DCGM's sampling interval (dcgm-exporter's default collection interval is 30 s)
    dcgm_interval_s: int = 30
    # the billing export unitcost.yaml reads (formats.billing.BILLING_FORMATS)
    billing_format: str = "cur2"

    def truth_day(self, stream: str, day) -> Path:
        """``truth/<stream>/date=YYYY-MM-DD/part-0.parquet`` (stream: timeline or requests)."""
        return self.out / "truth" / stream / f"date={day}" / "part-0.parquet"


@dataclass(frozen=True)
class WriterOutput:
    """``sources`` entries for unitcost.yaml (name -> {location, format}) and truth additions."""

    sources: dict[str, dict] = field(default_factory=dict)
    truth: dict = field(default_factory=dict)


FormatWriter = Callable[[SimulationContext], WriterOutput]


def format_writers() -> list[FormatWriter]:
    """The writers `unitcost simulate` runs, in order. Each module adds itself here."""
    from pipelines.fleet.formats import billing as billing_writer
    from pipelines.fleet.formats import request_logs
    from pipelines.fleet.formats import telemetry as telemetry_writer

    return [request_logs.write, telemetry_writer.write, billing_writer.write]
