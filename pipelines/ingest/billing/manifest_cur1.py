"""Which files make up each legacy CUR (CUR 1) delivery: the period's manifest chooses them.

AWS delivers a legacy report as
``<prefix>/<report>/<yyyymmdd-yyyymmdd>/<assemblyId>/<report>-<n>.csv.gz`` (a new
``assemblyId`` folder per update when versions are kept; without one when they are
overwritten), with ``<prefix>/<report>/<yyyymmdd-yyyymmdd>/<report>-Manifest.json`` naming
the current version's files in ``reportKeys`` (AWS CUR user guide, "Understanding your
report versions"). Only that period-level manifest is read: the older assemblies and their
own manifests are ignored and reported, so an update replaces the period instead of adding
to it. A folder without manifests is one delivery of every data file, as for FOCUS.
"""

from __future__ import annotations

import datetime as dt
import json
import re

from pipelines.config import S3Config
from pipelines.ingest.billing.manifest import DATA_SUFFIXES, Delivery, Discovery
from pipelines.ingest.errors import SourceError
from pipelines.ingest.storage import SourceFile, read_bytes

PERIOD_FOLDER = r"(?P<start>\d{8})-(?P<end>\d{8})"
MANIFEST = re.compile(rf"^(?P<root>(?:.*/)?){PERIOD_FOLDER}/(?P<report>[^/]+)-Manifest\.json$")
KEY_PERIOD = re.compile(rf"(?:^|/){PERIOD_FOLDER}/")
# each version's own copy of its manifest: metadata, never data, so not reported as ignored
ASSEMBLY_MANIFEST = re.compile(rf"^(?:.*/)?{PERIOD_FOLDER}/[^/]+/[^/]+-Manifest\.json$")


def discover_cur1(files: list[SourceFile], s3: S3Config | None, source_name: str) -> Discovery:
    manifests = [f for f in files if MANIFEST.match(f.relative_path)]
    if not manifests:
        data = tuple(f for f in files if f.relative_path.lower().endswith(DATA_SUFFIXES))
        ignored = [f.relative_path for f in files if f not in data]
        return Discovery([Delivery(source_name, None, data)] if data else [], ignored)
    deliveries = [_from_manifest(m, files, s3) for m in manifests]
    claimed = {f.relative_path for d in deliveries for f in d.files}
    claimed |= {m.relative_path for m in manifests}
    claimed |= {f.relative_path for f in files if ASSEMBLY_MANIFEST.match(f.relative_path)}
    return Discovery(deliveries, [f.relative_path for f in files if f.relative_path not in claimed])


def _from_manifest(manifest: SourceFile, files: list[SourceFile], s3: S3Config | None) -> Delivery:
    match = MANIFEST.match(manifest.relative_path)
    assert match is not None
    root, period = match["root"], dt.datetime.strptime(match["start"], "%Y%m%d").date()
    report = match["report"]
    try:
        return _parse(manifest, read_bytes(manifest, s3), files, root, period, report)
    except SourceError as error:
        return Delivery(report, period, (), manifest, root=root, error=error)


def _parse(
    manifest: SourceFile,
    body: bytes,
    files: list[SourceFile],
    root: str,
    period: dt.date,
    report: str,
) -> Delivery:
    try:
        doc = json.loads(body)
        keys = [str(k) for k in doc["reportKeys"]]
        name = str(doc.get("reportName") or report)
        start = str(doc["billingPeriod"]["start"])[:8]  # "20231101T000000.000Z"
    except (ValueError, KeyError, TypeError) as exc:
        raise SourceError(manifest.uri, f"unreadable manifest: {exc!r}") from None
    if start != f"{period:%Y%m%d}":
        raise SourceError(manifest.uri, f"manifest billingPeriod {start} is not its folder's")
    by_path = {f.relative_path: f for f in files}
    chosen = []
    for key in keys:
        # reportKeys are bucket keys (<prefix>/<report>/<period>/...); the source location
        # may start anywhere above the period folder, so match from the period folder on.
        at = KEY_PERIOD.search(key)
        found = by_path.get(root + key[at.start() :].lstrip("/")) if at else None
        if found is None:
            raise SourceError(manifest.uri, f"manifest lists {key}, which is not in the source")
        chosen.append(found)
    return Delivery(name, period, tuple(chosen), manifest, body, root=root)
