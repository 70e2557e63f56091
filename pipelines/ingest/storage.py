"""Where source files live: a local folder or an S3 prefix, listed and read the same way.

S3 goes through boto3 only, with its default credential chain (environment, profile, SSO,
instance role) — never keys in code or config — standard-mode retries (the default legacy
mode does not retry 503 SlowDown), and a paginator (a listing stops at 1,000 keys otherwise).
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import logging
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pipelines.config import S3Config
from pipelines.ingest.errors import SourceError

S3_RETRIES = {"mode": "standard", "max_attempts": 10}
# Case 3: how many times a period is listed and read again when an object changes under it.
CHANGE_TRIES = 3

log = logging.getLogger(__name__)

# RELIABILITY.md case 34 and §5: S3 errors are shown to users and logged, so anything that
# looks like a credential is cut out of them, whatever AWS or botocore put in the text.
_SECRETS = re.compile(
    r"(?:AKIA|ASIA)[0-9A-Z]{16}|((?i:aws_secret_access_key|aws_session_token))\s*[=:]\s*\S+"
)
# Error codes that mean the object is not there (deleted, or never written) after a listing.
_ABSENT = frozenset({"NoSuchKey", "404", "NotFound"})


@dataclass(frozen=True)
class SourceFile:
    """One file of a source. ``uri`` is a local path or ``s3://bucket/key``; ``version`` pins
    what was listed (S3 ETag, or local mtime in ns) so a file changed mid-read is detected.
    ``modified`` is when it was written (S3 LastModified, local mtime; UTC): billing uses it
    to tell which of two deliveries of one period is the newer."""

    uri: str
    relative_path: str
    size_bytes: int
    version: str
    modified: dt.datetime | None = None


def _split_s3(uri: str) -> tuple[str, str]:
    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    return bucket, prefix


def _folder_prefix(prefix: str) -> str:
    """The prefix as a folder: S3 prefixes match characters, not path segments, so without
    the slash ``exports/cur2`` would also list ``exports/cur2-initial/...`` (a sibling
    export) and sum it into this source. A source location is always a folder, like a
    local one; an empty prefix is the whole bucket."""
    return prefix if not prefix or prefix.endswith("/") else prefix + "/"


def _credentials(s3: S3Config) -> str:
    """Which credentials were used, by name only: the user needs it to fix access (case 34)."""
    return f"profile {s3.profile}" if s3.profile else "default credential chain"


def _describe(exc: Exception) -> str:
    """``Code: message`` of a botocore error, with anything key-like redacted."""
    # Connection errors carry ``response=None``: only a ClientError has an S3 error body.
    error = (getattr(exc, "response", None) or {}).get("Error", {})
    text = f"{error.get('Code')}: {error.get('Message')}" if error.get("Code") else str(exc)
    return _SECRETS.sub(lambda m: f"{m.group(1)}=<redacted>" if m.group(1) else "<redacted>", text)


def s3_client(s3: S3Config):
    import boto3
    from botocore.config import Config

    session = boto3.Session(profile_name=s3.profile, region_name=s3.region)
    return session.client("s3", endpoint_url=s3.endpoint_url, config=Config(retries=S3_RETRIES))


def _list_s3(location: str, s3: S3Config) -> Iterator[SourceFile]:
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, prefix = _split_s3(location)
    prefix = _folder_prefix(prefix)
    try:
        pages = (
            s3_client(s3).get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        )
        for page in pages:
            for obj in page.get("Contents", []):
                yield SourceFile(
                    uri=f"s3://{bucket}/{obj['Key']}",
                    relative_path=obj["Key"][len(prefix) :].lstrip("/"),
                    size_bytes=obj["Size"],
                    version=obj["ETag"].strip('"'),
                    modified=obj.get("LastModified"),
                )
    except (ClientError, BotoCoreError) as exc:
        raise SourceError(
            location, f"cannot list s3://{bucket}/{prefix} ({_credentials(s3)}): {_describe(exc)}"
        ) from None


def _list_local(location: Path) -> Iterator[SourceFile]:
    if not location.is_dir():
        raise SourceError(str(location), "source folder does not exist")
    for path in sorted(p for p in location.rglob("*") if p.is_file()):
        stat = path.stat()
        yield SourceFile(
            uri=str(path),
            relative_path=path.relative_to(location).as_posix(),
            size_bytes=stat.st_size,
            version=str(stat.st_mtime_ns),
            modified=dt.datetime.fromtimestamp(stat.st_mtime, dt.UTC),
        )


def list_files(
    location: str | Path, s3: S3Config | None = None, pattern: str = "*"
) -> list[SourceFile]:
    """Every file under ``location`` whose relative path matches ``pattern``, sorted by path."""
    if isinstance(location, str) and location.startswith("s3://"):
        found = _list_s3(location, s3 or S3Config())
    else:
        found = _list_local(Path(location))
    files = [f for f in found if fnmatch.fnmatch(f.relative_path, pattern)]
    return sorted(files, key=lambda f: f.relative_path)


class ObjectChanged(SourceError):
    """The object was rewritten after it was listed (its ETag moved on; case 3). The caller
    lists again and retries, at most ``CHANGE_TRIES`` times; ``failed`` is the final error."""

    def __init__(self, uri: str, bucket: str, key: str):
        self.bucket, self.key = bucket, key
        super().__init__(uri, f"object changed between listing and reading: {_where(bucket, key)}")

    def failed(self, tries: int) -> SourceError:
        problem = f"object changed between listing and reading on each of {tries} tries"
        return SourceError(self.file, f"{problem}: {_where(self.bucket, self.key)}")


def _where(bucket: str, key: str) -> str:
    return f"bucket {bucket}, key {key}"


def _body_errors() -> tuple[type[Exception], ...]:
    """A response body that broke off mid-read: connection reset (ResponseStreamingError),
    fewer bytes than Content-Length (IncompleteReadError), a stalled read, a checksum
    mismatch. botocore retries requests, not body reads, so these are ours to retry."""
    from botocore import exceptions as e

    return (e.ResponseStreamingError, e.IncompleteReadError, e.ReadTimeoutError,
            e.FlexibleChecksumError)  # fmt: skip


def read_bytes(file: SourceFile, s3: S3Config | None = None) -> bytes:
    """The file's content; for S3 the GET is pinned to the listed ETag (If-Match), and a body
    that breaks off is downloaded once more before the read fails (cases 17 and 32)."""
    if not file.uri.startswith("s3://"):
        return Path(file.uri).read_bytes()
    s3 = s3 or S3Config()
    client = s3_client(s3)
    try:
        return _download(client, file, s3)
    except _body_errors() as exc:
        log.warning("storage: %s broke off mid-read (%s); downloading again", file.uri, exc)
    try:
        return _download(client, file, s3)
    except _body_errors() as exc:
        bucket, key = _split_s3(file.uri)
        problem = f"download broke off twice: {_where(bucket, key)} ({_describe(exc)})"
        raise SourceError(file.uri, problem) from None


def _download(client, file: SourceFile, s3: S3Config) -> bytes:
    """One GET pinned to the listed ETag, read whole; S3 errors become ``SourceError``, a
    body that broke off is raised as it is for ``read_bytes`` to retry."""
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, key = _split_s3(file.uri)
    cannot = f"cannot read {_where(bucket, key)} ({_credentials(s3)})"
    try:
        return client.get_object(Bucket=bucket, Key=key, IfMatch=file.version)["Body"].read()
    except _body_errors():
        raise
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        if code == "PreconditionFailed":
            raise ObjectChanged(file.uri, bucket, key) from None
        if code in _ABSENT:
            raise SourceError(
                file.uri, f"listed but absent: {_where(bucket, key)} ({_describe(exc)})"
            ) from None
        raise SourceError(file.uri, f"{cannot}: {_describe(exc)}") from None
    except BotoCoreError as exc:  # no credentials, unknown profile, connection lost
        raise SourceError(file.uri, f"{cannot}: {_describe(exc)}") from None


@contextmanager
def local_copy(file: SourceFile, s3: S3Config | None = None) -> Iterator[Path]:
    """A local path to read the file from (S3 objects are downloaded to a temp file)."""
    if not file.uri.startswith("s3://"):
        yield Path(file.uri)
        return
    suffix = "".join(Path(file.relative_path).suffixes)
    with tempfile.NamedTemporaryFile(suffix=suffix) as tmp:
        tmp.write(read_bytes(file, s3))
        tmp.flush()
        yield Path(tmp.name)
