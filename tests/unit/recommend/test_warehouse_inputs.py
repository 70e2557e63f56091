"""The engine's inputs read from dbt tables, on a hand-built DuckDB (fixtures/recommend).

Worked by hand for chat-8b on 2026-11-02 (2 × L4, TP 1, both GPUs on host gpu-l4-01):

* requests r1 [0, 1000] ms (TTFT 100), r2 [500, 1500] ms (TTFT 200), r3 failed [1 h, 1 h +
  500 ms]; r4 (no usage), r5 (next day) and r6 (unmapped) are left out.
* The sweep (fixture table int_requests__replica_sweep): on the host stream r1 and r2 each
  see 1.5 in flight over their life; the stream carries 2 replicas, so their own replica
  held 1 + 0.5 / 2 = 1.25. Decode: r1 [100, 1000] has 1 for 400 ms and 2 for 500 ms,
  1400 / 900; r2 [700, 1500] has 2 for 300 ms and 1 for 500 ms, 1100 / 800; each becomes
  1 + (c - 1) / 2. r3 (no token) has no decode: NULL.
* TPOT r1 = 900 / 9 = 100 ms, r2 = 800 / 19 ms. The split's sweep (fixture table) has 1.75
  + 0.5 request-s on the GPUs over 1.5 + 0.5 busy s: a batch of 2.25 / 2 = 1.125 while busy.
* Telemetry observed chat-8b's GPU-hour 00 only: r1, r2 observed, r3 not: share 2 / 3.
* Busy: hour 00 (0.5 + 0.25) / 2 = 0.375, hour 01 (1200 / 3600 + 1800 / 1800) / 2 = 2 / 3;
  day 0.5208333…, peak 2 / 3; coverage (7200 + 5400) s / (2 × 86400 s).
* Cost 30 + 18 USD and 100 EUR at the period's 1.0834 (108.34 USD) = 156.34 USD over
  12.5 + 31.5 + 4 GPU-hours: 156.34 / 48 USD per GPU-hour (RELIABILITY case 8: every
  currency counts, converted; int_billing__usd_rates in the fixture).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from pipelines.recommend import warehouse_inputs
from pipelines.recommend.engine import recommend
from pipelines.recommend.warehouse_inputs import load_warehouse_inputs
from pipelines.warehouse import connect

FIXTURE = Path(__file__).parents[2] / "fixtures" / "recommend" / "warehouse.sql"
DAY = dt.date(2026, 11, 2)
WINDOW = (DAY, DAY + dt.timedelta(days=1))


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("recommend_warehouse") / "unitcost.duckdb"
    with connect(path) as con:
        con.execute(FIXTURE.read_text())
    return path


@pytest.fixture(scope="module")
def inputs(warehouse: Path):
    with connect(warehouse, read_only=True) as con:
        return load_warehouse_inputs(con, *WINDOW)


def test_configs_are_priced_at_allocation_basis_usd_per_gpu_hour(inputs):
    # quiet-8b is declared but never billed: no price, no config.
    assert sorted(inputs.configs) == ["batch-70b", "chat-8b"]
    chat = inputs.configs["chat-8b"]
    assert chat.usd_per_gpu_hour == pytest.approx((30 + 18 + 108.34) / 48, rel=1e-15)
    assert (chat.llm_id, chat.gpu_id, chat.num_gpus, chat.tensor_parallel) == (
        "llama-3.1-8b",
        "l4",
        2,
        1,
    )
    assert (chat.weight_precision, chat.engine, chat.replicas) == ("bf16", "vllm", 2)
    assert inputs.configs["batch-70b"].usd_per_gpu_hour == 5.0


def test_daily_observation_matches_the_hand_calculation(inputs):
    (obs,) = inputs.observations  # batch-70b is billed but has no telemetry: no observation
    assert (obs.usage_date, obs.deployment_id, obs.requests) == (DAY, "chat-8b", 3)
    assert (obs.input_tokens, obs.output_tokens, obs.cached_tokens) == (350, 30, 20)
    assert obs.cost_usd == 156.34  # 30 + 18 USD + 100 EUR x 1.0834
    assert obs.busy_fraction == round(0.5 * (0.375 + 2 / 3), 9)
    assert obs.peak_hour_busy_fraction == round(2 / 3, 9)
    assert obs.telemetry_coverage == round(12_600 / (2 * 86_400), 9)
    assert obs.batch_when_busy == 1.125
    assert obs.observed_request_share == pytest.approx(2 / 3, rel=1e-9)
    assert obs.p95_concurrency == 1.25
    assert obs.peak_to_mean_load == 2 / (3 / 24)
    assert (obs.mean_ttft_ms, obs.p95_ttft_ms) == (150.0, 200.0)
    assert obs.mean_tpot_ms == pytest.approx((100 + 800 / 19) / 2, rel=1e-12)
    assert obs.p95_tpot_ms == 100.0


def _request_rows(warehouse):
    """``sql/requests.sql`` itself: what the reader streams, before it keeps a sample's
    implied efficiencies only."""
    with connect(warehouse, read_only=True) as con:
        return pl.concat(warehouse_inputs._query(con, "requests", *WINDOW, stream=True))


def test_concurrency_is_read_from_the_sweep_and_an_empty_decode_stays_null(warehouse):
    frame = _request_rows(warehouse).sort("arrival_us")
    assert frame["life_concurrency"].to_list() == [1.25, 1.25, 1.0]
    *decode, failed = frame["decode_concurrency"].to_list()
    assert decode == pytest.approx([1 + (1400 / 900 - 1) / 2, 1 + (1100 / 800 - 1) / 2])
    assert failed is None


def test_requests_without_usage_outside_the_window_or_unmapped_are_left_out(warehouse, inputs):
    start_us = int(dt.datetime(2026, 11, 2, tzinfo=dt.UTC).timestamp() * 1e6)
    rows = _request_rows(warehouse).sort("arrival_us")
    assert [us - start_us for us in rows["arrival_us"]] == [0, 500_000, 3_600_000_000]
    assert rows["ok"].to_list() == [True, True, False]
    # calibration reads r1 only: r3 failed, and r2 logged no cache detail (NULL cached
    # tokens), so its MFU is unknown and the pair is left out
    assert inputs.requests["deployment_id"].cast(str).to_list() == ["chat-8b"]


def test_an_instance_billed_for_gpu_time_with_no_deployment_is_idle_in_any_currency(inputs):
    eur, idle = inputs.idle_instances  # i-used is held, i-zero has no GPU time
    assert (idle.instance_id, idle.instance_type, idle.gpu_id) == ("i-idle", "g6.12xlarge", "l4")
    assert (idle.gpu_count, idle.days_observed) == (2, 1)
    assert idle.usd_per_day == 4.0  # 2.5 + 2.5 - 1.0 (the Savings Plan negation piece)
    # billed in EUR: 2.5 EUR x 1.0834 (November's rate), exact in DECIMAL before the float
    assert (eur.instance_id, eur.usd_per_day, eur.days_observed) == ("i-eur", 2.7085, 1)


def test_prefix_cache_hours_with_counters_carry_the_days_decimal_price(inputs):
    # fixture: two hours with vLLM counters (one without is left out), $2,000 per 1M
    hours = inputs.prefix_cache_hours
    assert [
        (h.deployment_id, h.hour_start.hour, h.queried_tokens, h.hit_tokens) for h in hours
    ] == [
        ("chat-8b", 10, 200, 60),
        ("chat-8b", 11, 150, 40),
    ]
    assert {h.usd_per_1m_computed_input_tokens for h in hours} == {Decimal("2000")}
    assert {h.usage_date for h in hours} == {dt.date(2026, 11, 2)}


def test_a_window_without_data_gives_empty_inputs_the_engine_accepts(warehouse):
    with connect(warehouse, read_only=True) as con:
        empty = load_warehouse_inputs(con, dt.date(2026, 12, 1), dt.date(2026, 12, 2))
    assert (empty.configs, empty.observations, empty.idle_instances) == ({}, (), ())
    assert empty.requests is None
    result = recommend(empty)
    assert (result.efficiency, result.recommendations) == ((), ())


def test_a_connection_not_in_utc_is_refused(warehouse):
    with connect(warehouse, read_only=True) as con:
        con.execute("set TimeZone = 'America/New_York'")
        with pytest.raises(ValueError, match="must be in UTC, not America/New_York"):
            load_warehouse_inputs(con, *WINDOW)


def test_the_requests_read_runs_under_half_the_memory_limit_and_gives_it_back(
    warehouse, monkeypatch
):
    # 2GB = 2,000,000,000 bytes (DuckDB's GB is 1000^3), so 1,000,000,000 while it reads
    monkeypatch.setenv("UNITCOST_DUCKDB_MEMORY_LIMIT", "2GB")
    seen = []
    original = warehouse_inputs._query

    def spying(con, name, start, end, **kwargs):
        seen.append((name, con.execute("select current_setting('memory_limit')").fetchone()[0]))
        return original(con, name, start, end, **kwargs)

    monkeypatch.setattr(warehouse_inputs, "_query", spying)
    with connect(warehouse, read_only=True) as con:
        before = con.execute("select current_setting('memory_limit')").fetchone()[0]
        load_warehouse_inputs(con, *WINDOW)
        after = con.execute("select current_setting('memory_limit')").fetchone()[0]
    assert dict(seen)["requests"] == "953.6 MiB"  # 10^9 bytes
    assert dict(seen)["configs"] == before == after == "1.8 GiB"  # 2 × 10^9 bytes


def test_saturation_hours_of_the_window_are_read(inputs):
    """fixtures/recommend/warehouse.sql: two hours of 2026-11-02; the 2026-11-01 one is out."""
    from pipelines.recommend.saturation import peak_saturation

    hours = [(h.deployment_id, h.hour_start.hour, h.preemptions) for h in inputs.saturation]
    assert hours == [("chat-8b", 15, 0), ("chat-8b", 16, 4)]
    peak = peak_saturation(inputs.saturation, "chat-8b")
    assert (peak.waiting_p95_requests, peak.preemptions) == (1.5, 4)


def test_a_read_batch_by_batch_gives_the_same_hand_worked_day(warehouse, inputs, monkeypatch):
    # One row per batch: every deployment is cut across batches and must be put back whole.
    monkeypatch.setattr(warehouse_inputs, "_BATCH_ROWS", 1)
    with connect(warehouse, read_only=True) as con:
        one_by_one = load_warehouse_inputs(con, *WINDOW)
    (obs,) = one_by_one.observations
    assert (obs.requests, obs.input_tokens, obs.output_tokens, obs.cached_tokens) == (
        3,
        350,
        30,
        20,
    )
    assert (obs.p95_concurrency, obs.mean_ttft_ms, obs.p95_tpot_ms) == (1.25, 150.0, 100.0)
    assert one_by_one.requests.equals(inputs.requests)
    assert one_by_one.requests.height == 1  # r1 (see the test above)


def test_a_sample_of_one_request_a_day_still_counts_every_request(warehouse):
    with connect(warehouse, read_only=True) as con:
        sampled = load_warehouse_inputs(con, *WINDOW, calibration_sample_per_day=1)
    (obs,) = sampled.observations
    assert (obs.requests, obs.input_tokens, obs.output_tokens) == (3, 350, 30)  # all three
    assert sampled.requests.height <= 1  # one request of chat-8b's day sampled for the fits


def test_batches_are_regrouped_into_whole_deployments():
    ids = ["a", "a", "b", "c", "c", "c", "d"]
    frame = pl.DataFrame({"deployment_id": ids, "n": range(7)})
    batches = [frame.slice(0, 3), frame.slice(3, 1), frame.slice(4, 1), frame.slice(5, 2)]
    parts = list(warehouse_inputs._deployments(iter(batches)))
    assert pl.concat(parts).equals(frame)  # every row once, in order
    seen = [set(p["deployment_id"]) for p in parts]
    assert all(not (x & y) for i, x in enumerate(seen) for y in seen[i + 1 :])  # none cut


def test_two_deployments_in_one_batch_are_both_calibrated(warehouse, monkeypatch):
    # chat-8b's rows again as batch-70b's and as an unconfigured deployment's, all in one
    # batch: the first two come out as one frame of whole deployments, each its own sample
    rows = _request_rows(warehouse)
    both = pl.concat(
        [
            rows.with_columns(deployment_id=pl.lit("batch-70b")),
            rows,
            rows.with_columns(deployment_id=pl.lit("zz-not-configured")),
        ]
    )
    monkeypatch.setattr(warehouse_inputs, "_query", _streaming(both))
    with connect(warehouse, read_only=True) as con:
        inputs = load_warehouse_inputs(con, *WINDOW)
    assert sorted(inputs.requests["deployment_id"].cast(str)) == ["batch-70b", "chat-8b"]


def _streaming(requests: pl.DataFrame):
    original = warehouse_inputs._query

    def query(con, name, start, end, **kwargs):
        if name == "requests":
            return iter([requests])
        return original(con, name, start, end, **kwargs)

    return query
