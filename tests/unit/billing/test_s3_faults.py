"""S3 faults on moto (RELIABILITY.md cases 2, 3, 17, 32 and 34; issue 12 point 8): throttling
and connection resets are retried, a missing manifest or an absent file fails its period
naming bucket and key, access denied names bucket, key and profile, and no error ever
carries a credential. An object rewritten after the listing is listed and read again (at
most 3 tries); a body that breaks off, or a file that reads as truncated, is downloaded once
more before its period fails.

Faults are injected on the real client's ``before-send`` event: the response a handler
returns there goes through botocore's own retry logic, as S3's would.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from botocore.response import StreamingBody

from pipelines.config import S3Config
from pipelines.ingest import storage
from pipelines.ingest.billing.load import BillingSource, ingest_billing
from pipelines.ingest.errors import SourceError

OCT, NOV = dt.date(2026, 10, 1), dt.date(2026, 11, 1)
EXPORT = "s3://bills/exports/unitcost-cur2"
# Built at run time so the repository's own key scan (tests/unit/test_security.py) stays clean.
FAKE_KEY_ID = "AKIA" + "Q7EXAMPLEFAKE000"
FAKE_SECRET = "wJalrXUtnFEMI" + "/K7MDENG/bPxRfiCYFAKEKEY"
KEY_PATTERNS = re.compile(r"AKIA[0-9A-Z]{16}|ASIA[0-9A-Z]{16}|aws_secret_access_key\s*=")


class _Raw:
    def __init__(self, body: bytes):
        self.body = body

    def stream(self, **_):
        yield self.body


class Faults:
    """Answer the first ``times`` calls of ``operation`` with an S3 error; count every call."""

    def __init__(self, operation: str, status: int, code: str, message: str, times: int):
        self.operation, self.status, self.times = operation, status, times
        self.body = (
            f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code>'
            f"<Message>{message}</Message></Error>"
        ).encode()
        self.calls = 0

    def __call__(self, request, **_):
        from botocore.awsrequest import AWSResponse

        self.calls += 1
        if self.calls <= self.times:
            return AWSResponse(request.url, self.status, {}, _Raw(self.body))
        return None  # moto answers

    def install(self, monkeypatch) -> Faults:
        real = storage.s3_client

        def client(s3):
            made = real(s3)
            made.meta.events.register_first(f"before-send.s3.{self.operation}", self)
            return made

        monkeypatch.setattr(storage, "s3_client", client)
        return self


@pytest.fixture
def s3(monkeypatch, tmp_path, bill):
    """The simulated CUR 2.0 export (periods 2026-10 and 2026-11) in moto bucket ``bills``,
    under ``exports/``; credentials come from a shared-credentials profile, as in production."""
    moto = pytest.importorskip("moto")
    creds = tmp_path / "credentials"
    secret_key = "aws_secret_" + "access_key"  # split: the repository key scan must stay clean
    creds.write_text(
        f"[finops-readonly]\naws_access_key_id = {FAKE_KEY_ID}\n{secret_key} = {FAKE_SECRET}\n"
    )
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(creds))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    # Standard mode waits up to seconds between attempts; the count of attempts is what matters.
    from botocore.retries.standard import ExponentialBackoff

    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda self, context: 0)
    with moto.mock_aws():
        config = S3Config(region="us-east-1", profile="finops-readonly")
        client = storage.s3_client(config)
        client.create_bucket(Bucket="bills")
        root = bill[0] / "cur2"
        for path in sorted(root.rglob("*")):
            if path.is_file():
                key = "exports/" + path.relative_to(root).as_posix()
                client.put_object(Bucket="bills", Key=key, Body=path.read_bytes())
        yield config


def _source(s3: S3Config) -> BillingSource:
    return BillingSource("billing", "s3://bills/exports", "cur2", s3)


def _periods(con):
    query = "select billing_period, status from raw.billing_deliveries order by ledger_seq"
    return con.execute(query).fetchall()


def _assert_no_secret(message: str) -> None:
    assert not KEY_PATTERNS.search(message), message
    assert FAKE_SECRET not in message and FAKE_KEY_ID not in message


def test_s3_client_retries_in_standard_mode_ten_attempts(s3):
    # Case 32: the default legacy mode does not retry 503 SlowDown.
    retries = storage.s3_client(s3).meta.config.retries
    assert retries["mode"] == "standard"
    # botocore reads Config's max_attempts=10 as ten retries: eleven attempts in all.
    assert retries["total_max_attempts"] == 11


@pytest.mark.parametrize("operation", ["ListObjectsV2", "GetObject"])
def test_throttled_s3_calls_are_retried_and_the_load_succeeds(s3, con, monkeypatch, operation):
    faults = Faults(operation, 503, "SlowDown", "Please reduce your request rate.", 3)
    faults.install(monkeypatch)
    result = ingest_billing(con, _source(s3))
    assert [(d.periods, d.status) for d in result.deliveries] == [
        ([OCT], "loaded"),
        ([NOV], "loaded"),
    ]
    assert faults.calls > 3  # three throttled attempts, then the ones that succeeded


def test_throttling_past_the_retry_budget_fails_naming_bucket_and_key(s3, monkeypatch):
    faults = Faults("GetObject", 503, "SlowDown", "Please reduce your request rate.", 1000)
    faults.install(monkeypatch)
    (manifest,) = [
        f for f in storage.list_files("s3://bills/exports", s3) if f.relative_path.endswith("json")
    ][:1]
    with pytest.raises(SourceError) as info:
        storage.read_bytes(manifest, s3)
    assert faults.calls == 11  # one call and ten retries, then FAIL (Dagster may rerun the step)
    message = str(info.value)
    assert message.startswith(f"{manifest.uri}: cannot read bucket bills, key {manifest.uri[11:]}")
    assert "SlowDown" in message and "profile finops-readonly" in message
    _assert_no_secret(message)


def test_missing_manifest_fails_that_period_naming_bucket_and_key(s3, con):
    client = storage.s3_client(s3)
    key = "exports/unitcost-cur2/metadata/BILLING_PERIOD=2026-11/unitcost-cur2-Manifest.json"
    client.delete_object(Bucket="bills", Key=key)
    with pytest.raises(SourceError) as info:
        ingest_billing(con, _source(s3))
    assert str(info.value) == (
        f"{EXPORT}/data/BILLING_PERIOD=2026-11: data files without a manifest "
        f"(delivery incomplete?); expected s3://bills/{key}"
    )
    assert _periods(con) == [(OCT, "loaded")]  # the other period still landed


def test_cur2_export_without_any_manifest_fails_each_period_naming_the_manifest_key(s3, con):
    client = storage.s3_client(s3)
    for period in ("2026-10", "2026-11"):
        client.delete_object(
            Bucket="bills",
            Key=f"exports/unitcost-cur2/metadata/BILLING_PERIOD={period}/unitcost-cur2-Manifest.json",
        )
    with pytest.raises(SourceError) as info:
        ingest_billing(con, _source(s3), {OCT})
    assert str(info.value).startswith(f"{EXPORT}/data/BILLING_PERIOD=2026-10: data files without")
    assert str(info.value).endswith(
        "expected s3://bills/exports/unitcost-cur2/metadata/BILLING_PERIOD=2026-10/"
        "unitcost-cur2-Manifest.json"
    )
    assert _periods(con) == []


def test_manifest_listing_an_absent_file_fails_that_period_naming_bucket_and_key(s3, con):
    client = storage.s3_client(s3)
    prefix = "exports/unitcost-cur2/data/BILLING_PERIOD=2026-11/"
    (obj,) = client.list_objects_v2(Bucket="bills", Prefix=prefix)["Contents"]
    client.delete_object(Bucket="bills", Key=obj["Key"])
    with pytest.raises(SourceError) as info:
        ingest_billing(con, _source(s3))
    message = str(info.value)
    assert message.startswith(
        f"{EXPORT}/metadata/BILLING_PERIOD=2026-11/unitcost-cur2-Manifest.json: manifest lists "
    )
    assert obj["Key"].rsplit("/", 1)[1] in message and message.endswith("not in the source")
    assert _periods(con) == [(OCT, "loaded")]


def test_a_listed_file_gone_before_it_is_read_fails_naming_bucket_and_key(s3):
    (listed, *_) = storage.list_files("s3://bills/exports", s3, "*/data/*")
    key = listed.uri.removeprefix("s3://bills/")
    storage.s3_client(s3).delete_object(Bucket="bills", Key=key)
    with pytest.raises(SourceError) as info:
        storage.read_bytes(listed, s3)
    assert str(info.value).startswith(
        f"{listed.uri}: listed but absent: bucket bills, key {key} (NoSuchKey"
    )


@pytest.mark.parametrize("operation", ["ListObjectsV2", "GetObject"])
def test_access_denied_fails_naming_bucket_key_and_profile_never_secrets(
    s3, con, monkeypatch, operation
):
    # S3 puts the caller's key id in some denials; it must not reach the message.
    faults = Faults(operation, 403, "AccessDenied", f"Access Denied for {FAKE_KEY_ID}", 1000)
    faults.install(monkeypatch)
    with pytest.raises(SourceError) as info:
        ingest_billing(con, _source(s3))
    message = str(info.value)
    assert "bills" in message and "exports/" in message
    assert "(profile finops-readonly): AccessDenied: Access Denied for <redacted>" in message
    if operation == "GetObject":
        assert "key exports/unitcost-cur2/metadata/BILLING_PERIOD=2026-10/" in message
    # Not retried: access denied fails fast (case 34); one GET per manifest, one listing.
    assert faults.calls == (2 if operation == "GetObject" else 1)
    _assert_no_secret(message)
    assert _periods(con) == []  # nothing written


def test_unknown_profile_fails_naming_it(s3, con):
    with pytest.raises(SourceError) as info:
        ingest_billing(con, _source(S3Config(region="us-east-1", profile="nope")))
    assert "cannot list s3://bills/exports/ (profile nope)" in str(info.value)
    _assert_no_secret(str(info.value))


# Cases 3, 17 and 32: objects that change, arrive truncated or break off after the listing.


class Resets(Faults):
    """The first ``times`` sends of ``operation`` end as a reset connection, no response."""

    def __init__(self, operation: str, times: int):
        self.operation, self.times, self.calls = operation, times, 0

    def __call__(self, request, **_):
        from botocore.exceptions import ConnectionClosedError

        self.calls += 1
        if self.calls <= self.times:
            raise ConnectionClosedError(endpoint_url=request.url)
        return None


class Gets:
    """Count the GETs of ``key``; ``before(n)`` runs before the n-th is sent, ``body(n, b)``
    may replace the n-th response's body ``b``."""

    def __init__(self, key: str, before=None, body=None):
        self.key, self.before, self.body, self.calls, self._ours = key, before, body, 0, False

    def _params(self, params, **_):
        self._ours = params.get("Key") == self.key
        if self._ours:
            self.calls += 1
            if self.before:
                self.before(self.calls)

    def _parsed(self, parsed, **_):
        if self._ours and self.body and "Body" in parsed:
            parsed["Body"] = self.body(self.calls, parsed["Body"])

    def install(self, monkeypatch) -> Gets:
        real = storage.s3_client

        def client(s3):
            made = real(s3)
            made.meta.events.register_first("before-parameter-build.s3.GetObject", self._params)
            made.meta.events.register_first("after-call.s3.GetObject", self._parsed)
            return made

        monkeypatch.setattr(storage, "s3_client", client)
        return self


class _ResetStream:
    """A socket reset after the headers: urllib3 raises ProtocolError from the body read."""

    def read(self, *_):
        from urllib3.exceptions import ProtocolError

        raise ProtocolError("Connection broken: ConnectionResetError(104, 'Connection reset')")


def _reset(body):
    return StreamingBody(_ResetStream(), None)


def _short(body):
    data = body.read()  # half the bytes arrive, Content-Length promised all of them
    return StreamingBody(io.BytesIO(data[: len(data) // 2]), len(data))


def _cut(body):
    data = body.read()[:-100]  # a consistent but truncated object: the reader must notice
    return StreamingBody(io.BytesIO(data), len(data))


def _nov_data_key(s3) -> str:
    prefix = "exports/unitcost-cur2/data/BILLING_PERIOD=2026-11/"
    (obj,) = storage.s3_client(s3).list_objects_v2(Bucket="bills", Prefix=prefix)["Contents"]
    return obj["Key"]


def _rows(con, period):
    query = "select count(*) from raw.billing_line_items where billing_period = ?"
    return con.execute(query, [period]).fetchall()[0][0]


def _focus_source(s3) -> BillingSource:
    return BillingSource("billing", "s3://bills/focus", "focus", s3)


def test_case3_an_object_rewritten_after_listing_is_listed_and_read_again(
    s3, con, monkeypatch, focus_file
):
    writer, key = storage.s3_client(s3), "focus/2024-09.csv"
    writer.put_object(Bucket="bills", Key=key, Body=focus_file.csv([{"BilledCost": "1.00"}]))
    restated = focus_file.csv(
        [{"BilledCost": "2.00", "Id": "1"}, {"BilledCost": "3.00", "Id": "2"}]
    )

    def rewrite_once(n: int) -> None:
        if n == 1:  # between the listing and the first GET
            writer.put_object(Bucket="bills", Key=key, Body=restated)

    gets = Gets(key, before=rewrite_once).install(monkeypatch)
    result = ingest_billing(con, _focus_source(s3))
    assert [(d.status, d.row_count) for d in result.deliveries] == [("loaded", 2)]
    # 2.00 + 3.00: the rewritten object, read at its new ETag, not the listed one (1.00).
    total = con.execute("select sum(billed_cost) from raw.billing_line_items").fetchall()
    assert total == [(Decimal("5.00"),)]
    assert gets.calls == 2  # refused once (If-Match), then read after listing again


def test_case3_an_object_rewritten_on_every_try_fails_naming_bucket_key_and_tries(
    s3, con, monkeypatch, focus_file
):
    writer, key = storage.s3_client(s3), "focus/2024-09.csv"
    writer.put_object(Bucket="bills", Key=key, Body=focus_file.csv([{"BilledCost": "0.50"}]))

    def rewrite(n: int) -> None:  # new content, so a new ETag, before every GET
        writer.put_object(Bucket="bills", Key=key, Body=focus_file.csv([{"BilledCost": f"{n}"}]))

    gets = Gets(key, before=rewrite).install(monkeypatch)
    with pytest.raises(SourceError) as info:
        ingest_billing(con, _focus_source(s3))
    assert str(info.value) == (
        f"s3://bills/{key}: object changed between listing and reading on each of 3 tries: "
        f"bucket bills, key {key}"
    )
    assert gets.calls == 3
    assert con.execute("select count(*) from raw.billing_line_items").fetchall() == [(0,)]
    assert _periods(con) == []


def test_case3_a_manifest_rewritten_after_listing_is_listed_and_read_again(
    s3, con, monkeypatch, bill
):
    writer = storage.s3_client(s3)
    key = "exports/unitcost-cur2/metadata/BILLING_PERIOD=2026-11/unitcost-cur2-Manifest.json"
    body = writer.get_object(Bucket="bills", Key=key)["Body"].read()

    def rewrite_once(n: int) -> None:  # the same JSON re-saved: a new ETag
        if n == 1:
            writer.put_object(Bucket="bills", Key=key, Body=body + b"\n")

    gets = Gets(key, before=rewrite_once).install(monkeypatch)
    result = ingest_billing(con, _source(s3))
    rows = bill[1]["rows"]["cur2"]
    assert [(d.periods, d.status, d.row_count) for d in result.deliveries] == [
        ([OCT], "loaded", rows["2026-10"]),
        ([NOV], "loaded", rows["2026-11"]),
    ]
    assert gets.calls == 2


@pytest.mark.parametrize("broken", [_reset, _short], ids=["connection-reset", "short-body"])
def test_case17_a_body_that_breaks_off_once_is_downloaded_again(s3, con, monkeypatch, bill, broken):
    key = _nov_data_key(s3)
    gets = Gets(key, body=lambda n, body: broken(body) if n == 1 else body).install(monkeypatch)
    result = ingest_billing(con, _source(s3))
    rows = bill[1]["rows"]["cur2"]
    assert [d.row_count for d in result.deliveries] == [rows["2026-10"], rows["2026-11"]]
    assert gets.calls == 2


@pytest.mark.parametrize("broken", [_reset, _short], ids=["connection-reset", "short-body"])
def test_case17_a_body_that_breaks_off_twice_fails_naming_bucket_and_key(
    s3, con, monkeypatch, broken
):
    key = _nov_data_key(s3)
    gets = Gets(key, body=lambda n, body: broken(body)).install(monkeypatch)
    with pytest.raises(SourceError) as info:
        ingest_billing(con, _source(s3))
    message = str(info.value)
    assert message.startswith(
        f"s3://bills/{key}: download broke off twice: bucket bills, key {key} ("
    )
    _assert_no_secret(message)
    assert gets.calls == 2
    assert _rows(con, NOV) == 0 and _periods(con) == [(OCT, "loaded")]


def test_case17_a_truncated_download_is_fetched_once_more_and_loads(s3, con, monkeypatch, bill):
    key = _nov_data_key(s3)
    gets = Gets(key, body=lambda n, body: _cut(body) if n == 1 else body).install(monkeypatch)
    result = ingest_billing(con, _source(s3))
    rows = bill[1]["rows"]["cur2"]
    assert [d.row_count for d in result.deliveries] == [rows["2026-10"], rows["2026-11"]]
    assert _rows(con, NOV) == rows["2026-11"]
    assert gets.calls == 2


def test_case17_a_truncated_object_fails_after_a_second_download_naming_it(s3, con, monkeypatch):
    key = _nov_data_key(s3)
    client = storage.s3_client(s3)
    whole = client.get_object(Bucket="bills", Key=key)["Body"].read()
    client.put_object(Bucket="bills", Key=key, Body=whole[:-100])  # no Parquet footer
    gets = Gets(key).install(monkeypatch)
    with pytest.raises(SourceError) as info:
        ingest_billing(con, _source(s3))
    message = str(info.value)
    assert message.startswith(f"s3://bills/{key}: unreadable Parquet: ")
    assert message.endswith("(downloaded twice)")
    assert gets.calls == 2
    assert _rows(con, NOV) == 0 and _periods(con) == [(OCT, "loaded")]  # no partial rows


@pytest.mark.parametrize("operation", ["ListObjectsV2", "GetObject"])
def test_case32_connection_resets_on_a_request_are_retried_and_the_load_succeeds(
    s3, con, monkeypatch, operation
):
    resets = Resets(operation, 3).install(monkeypatch)
    result = ingest_billing(con, _source(s3))
    assert [(d.periods, d.status) for d in result.deliveries] == [
        ([OCT], "loaded"),
        ([NOV], "loaded"),
    ]
    assert resets.calls > 3  # three resets, then the sends that succeeded


def test_case32_connection_resets_past_the_retry_budget_fail_naming_bucket_and_key(s3, monkeypatch):
    resets = Resets("GetObject", 1000).install(monkeypatch)
    key = _nov_data_key(s3)
    (listed,) = [f for f in storage.list_files("s3://bills/exports", s3) if f.uri.endswith(key)]
    with pytest.raises(SourceError) as info:
        storage.read_bytes(listed, s3)
    assert resets.calls == 11  # one send and ten retries
    message = str(info.value)
    assert message.startswith(
        f"{listed.uri}: cannot read bucket bills, key {key} (profile finops-readonly): "
        "Connection was closed"
    )
    _assert_no_secret(message)
