"""Prometheus text exposition (a scraper's ``/metrics`` files, a VictoriaMetrics or Prometheus
export) -> the long sample frame, parsed by prometheus-client's own parser, not regexes.

Capture time is the sample's own timestamp (ms, as exported) or, for a scraper's file with
none, the UTC time in the file name (``…20261101T100000Z.prom``). With neither the file
fails (RELIABILITY.md case 25): a sample without a time cannot be placed in a partition.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import PurePosixPath

import polars as pl
from prometheus_client.parser import text_string_to_metric_families

from pipelines.ingest.errors import SourceError
from pipelines.ingest.telemetry.fields import (
    BUCKET_SUFFIX,
    ENGINE_PREFIX,
    ENGINE_SERIES_LABELS,
    LABELS,
    LONG_SCHEMA,
)

# The capture time a scraper puts in its file names; a naming convention, not exposition.
_NAME_TS = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})T(\d{2})[-:]?(\d{2})[-:]?(\d{2})Z")


def time_from_name(path: str) -> dt.datetime | None:
    """The UTC capture time in a file name such as ``host_20261101T100000Z.prom``."""
    match = _NAME_TS.search(PurePosixPath(path).name)
    if match is None:
        return None
    return dt.datetime(*map(int, match.groups()), tzinfo=dt.UTC)


def _sample_lines(text: str) -> list[int]:
    """1-based line numbers of sample lines: the parser yields samples in this order."""
    return [
        n
        for n, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]


def _first_bad_line(text: str, name: str) -> SourceError:
    for n, line in enumerate(text.splitlines(), start=1):
        try:
            list(text_string_to_metric_families(line + "\n"))
        except ValueError as exc:
            return SourceError(name, f"not Prometheus text exposition: {exc}", line=n)
    return SourceError(name, "not Prometheus text exposition")


def _label_columns(labels: dict[str, str]) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for column, names in LABELS.items():
        out[column] = next((labels[n] for n in names if labels.get(n)), None)
    return out


def _metric(name: str, labels: dict[str, str]) -> str:
    """The sample's name; a vLLM series also keeps its ``ENGINE_SERIES_LABELS`` (a bucket
    series keeps its bare name: buckets are recognised, and not stored, by their suffix)."""
    if not name.startswith(ENGINE_PREFIX) or name.endswith(BUCKET_SUFFIX):
        return name
    extra = [f'{k}="{labels[k]}"' for k in ENGINE_SERIES_LABELS if labels.get(k)]
    return f"{name}{{{','.join(extra)}}}" if extra else name


def parse_exposition(text: str, name: str, scrape_ts: dt.datetime | None = None) -> pl.DataFrame:
    """Every sample in ``text`` as a row of the long frame (``fields.LONG_SCHEMA``).

    ``name`` is the file as reported in errors and ``source_file``; ``scrape_ts`` is the
    capture time for samples without their own timestamp.
    """
    try:
        samples = [s for family in text_string_to_metric_families(text) for s in family.samples]
    except ValueError:
        raise _first_bad_line(text, name) from None
    lines = _sample_lines(text)
    if len(lines) != len(samples):  # defensive: never attach a wrong line number
        lines = [None] * len(samples)
    rows: dict[str, list] = {column: [] for column in LONG_SCHEMA}
    for sample, line in zip(samples, lines, strict=True):
        if sample.timestamp is not None:
            ts = dt.datetime.fromtimestamp(float(sample.timestamp), dt.UTC)
        elif scrape_ts is not None:
            ts = scrape_ts
        else:
            raise SourceError(
                name,
                "no capture time: the sample has no timestamp and the file name none "
                "(expected e.g. 20261101T100000Z)",
                line=line,
            )
        rows["source_file"].append(name)
        rows["source_line"].append(line)
        rows["ts"].append(ts)
        rows["metric"].append(_metric(sample.name, sample.labels))
        rows["value"].append(float(sample.value))
        for column, value in _label_columns(sample.labels).items():
            rows[column].append(value)
    return pl.DataFrame(rows, schema=LONG_SCHEMA)
