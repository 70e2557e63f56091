"""Which files make up each billing delivery: manifest-driven, as AWS Data Exports lay them out.

``<export>/data/BILLING_PERIOD=YYYY-MM/<files>`` and
``<export>/metadata/BILLING_PERIOD=YYYY-MM/<export>-Manifest.json`` (CUR 2.0 and AWS's
FOCUS 1.2 export alike). The manifest is written after all its data files, so it alone says
which files to read; files it does not list are ignored and reported (case 2). A FOCUS folder
without manifests (other providers, the FOCUS sample) is one delivery of every data file.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path

from pipelines.config import S3Config
from pipelines.ingest.errors import SourceError
from pipelines.ingest.storage import SourceFile, list_files, read_bytes

MANIFEST = re.compile(
    r"^(?P<root>(?:.*/)?)metadata/BILLING_PERIOD=(?P<period>\d{4}-\d{2})/[^/]+-Manifest\.json$"
)
DATA = re.compile(r"^(?P<root>(?:.*/)?)data/BILLING_PERIOD=(?P<period>\d{4}-\d{2})/[^/]+$")
DATA_SUFFIXES = (".csv", ".csv.gz", ".csv.gzip", ".parquet")


@dataclass(frozen=True)
class Delivery:
    """One delivery: ``period`` is None when the files carry no manifest (periods from data)."""

    billing_source: str
    period: dt.date | None
    files: tuple[SourceFile, ...]
    manifest: SourceFile | None = None
    manifest_bytes: bytes | None = None
    error: SourceError | None = None  # raised only if this period is asked for (case 2)
    root: str = ""  # the export's folder, relative to the source location


@dataclass(frozen=True)
class Discovery:
    deliveries: list[Delivery]
    ignored: list[str]  # relative paths of files no manifest lists


def _period(text: str) -> dt.date:
    return dt.date.fromisoformat(text + "-01")


def discover(location: str | Path, s3: S3Config | None, fmt: str, source_name: str) -> Discovery:
    """Every delivery under ``location`` (local folder or ``s3://`` prefix), paginated."""
    files = list_files(location, s3)
    if fmt == "cur1":  # legacy CUR: its own layout and manifest (manifest_cur1.py)
        from pipelines.ingest.billing.manifest_cur1 import discover_cur1

        return discover_cur1(files, s3, source_name)
    manifests = [f for f in files if MANIFEST.match(f.relative_path)]
    if not manifests:
        if fmt == "cur2" and any(DATA.match(f.relative_path) for f in files):
            # CUR 2.0 data laid out by period but no manifest yet: each such period fails on
            # its own (case 2), naming the manifest key it waits for; other periods still load.
            missing = _without_manifest([], files, source_name)
            data = {f.relative_path for f in files if DATA.match(f.relative_path)}
            return Discovery(
                missing, [f.relative_path for f in files if f.relative_path not in data]
            )
        if fmt == "cur2":
            raise SourceError(
                str(location),
                "no CUR 2.0 manifest found (expected "
                "<export>/metadata/BILLING_PERIOD=YYYY-MM/<export>-Manifest.json)",
            )
        data = tuple(f for f in files if f.relative_path.lower().endswith(DATA_SUFFIXES))
        ignored = [f.relative_path for f in files if f not in data]
        return Discovery([Delivery(source_name, None, data)] if data else [], ignored)
    deliveries = [_from_manifest(m, files, s3) for m in manifests]
    deliveries += _without_manifest(deliveries, files, source_name)
    listed = {f.relative_path for d in deliveries for f in d.files}
    claimed = listed | {m.relative_path for m in manifests}
    return Discovery(deliveries, [f.relative_path for f in files if f.relative_path not in claimed])


def rediscover(
    location: str | Path, s3: S3Config | None, fmt: str, source_name: str, delivery: Delivery
) -> Delivery:
    """``delivery`` as a fresh listing shows it now (same export folder and period), after one
    of its objects changed between listing and reading (case 3)."""
    for found in discover(location, s3, fmt, source_name).deliveries:
        if (found.root, found.period) == (delivery.root, delivery.period):
            return found
    period = f"period {delivery.period:%Y-%m}" if delivery.period else "its files"
    raise SourceError(str(location), f"{period} no longer listed after an object changed")


def _without_manifest(
    deliveries: list[Delivery], files: list[SourceFile], source_name: str
) -> list[Delivery]:
    """A failed delivery for each period whose data has no manifest yet (case 2)."""
    have = {(d.root, d.period) for d in deliveries}
    missing: dict[tuple[str, dt.date], SourceError] = {}
    for f in files:
        match = DATA.match(f.relative_path)
        if match is None or (match["root"], _period(match["period"])) in have:
            continue
        # Name the folder and the manifest key in full (s3://bucket/key or a local path), so
        # the user can look for them; the location alone does not say which export is missing.
        base = f.uri[: len(f.uri) - len(f.relative_path)]
        at, month = match["root"], match["period"]
        export = Path(at.rstrip("/")).name or "<export>"
        folder = f"{base}{at}data/BILLING_PERIOD={month}"
        expected = f"{base}{at}metadata/BILLING_PERIOD={month}/{export}-Manifest.json"
        error = SourceError(
            folder, f"data files without a manifest (delivery incomplete?); expected {expected}"
        )
        missing.setdefault((match["root"], _period(match["period"])), error)
    return [
        Delivery(Path(root.rstrip("/")).name or source_name, period, (), root=root, error=error)
        for (root, period), error in sorted(missing.items(), key=lambda kv: kv[0])
    ]


def _from_manifest(manifest: SourceFile, files: list[SourceFile], s3: S3Config | None) -> Delivery:
    match = MANIFEST.match(manifest.relative_path)
    assert match is not None
    root, period = match["root"], _period(match["period"])
    fallback = Path(root.rstrip("/")).name or "billing"
    try:
        return _parse_manifest(manifest, read_bytes(manifest, s3), files, root, period)
    except SourceError as error:
        return Delivery(fallback, period, (), manifest, root=root, error=error)


def _parse_manifest(
    manifest: SourceFile, body: bytes, files: list[SourceFile], root: str, period: dt.date
) -> Delivery:
    try:
        doc = json.loads(body)
        entries = [str(e) for e in doc["dataFiles"]]
        name = str(doc.get("exportName") or Path(root.rstrip("/")).name or "billing")
        start = str(doc["billingPeriod"]["start"])[:7]
    except (ValueError, KeyError, TypeError) as exc:
        raise SourceError(manifest.uri, f"unreadable manifest: {exc!r}") from None
    if start != f"{period:%Y-%m}":
        raise SourceError(
            manifest.uri, f"manifest billingPeriod {start} is not its folder's period"
        )
    by_path = {f.relative_path: f for f in files}
    chosen = []
    for entry in entries:
        at = entry.find("data/BILLING_PERIOD=")
        found = by_path.get(root + entry[at:]) if at >= 0 else None
        if found is None:
            raise SourceError(manifest.uri, f"manifest lists {entry}, which is not in the source")
        chosen.append(found)
    return Delivery(name, period, tuple(chosen), manifest, body, root=root)
