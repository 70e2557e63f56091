"""Out-of-sample calibration: a day is scored with efficiencies fitted on earlier days only
(``calibrate.calibrate_days``), so what a day's own timings say never enters its own fit,
and the fit does not depend on which other days a run holds."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from pipelines.recommend.calibrate import calibrate_days
from pipelines.recommend.inputs import DeploymentConfig

CONFIG = DeploymentConfig(
    "chat", "llama-3.1-8b", "h100-sxm", 1, 1, "bf16", "bf16", "vllm", usd_per_gpu_hour=4.0
)
D1, D2, D3 = dt.date(2026, 11, 1), dt.date(2026, 11, 2), dt.date(2026, 11, 3)


def _day(day: dt.date, tpot_ms: float, ttft_ms: float, n: int = 400) -> pl.DataFrame:
    t0 = int(dt.datetime.combine(day, dt.time(), dt.UTC).timestamp() * 1e6)
    arrival = [t0 + i * 60_000_000 for i in range(n)]
    first = [a + int(ttft_ms * 1000) for a in arrival]
    return pl.DataFrame(
        {
            "deployment_id": "chat",
            "usage_date": day,
            "ok": True,
            "input_tokens": 1000,
            "output_tokens": 101,
            "cached_tokens": 0,
            "arrival_us": arrival,
            "first_token_us": first,
            "finish_us": [f + int(100 * tpot_ms * 1000) for f in first],
            "decode_concurrency": 1.0,
        }
    )


def _fits(*frames: pl.DataFrame, window_days: int = 7):
    days = [("chat", d) for d in (D1, D2, D3)]
    return calibrate_days(pl.concat(frames), {"chat": CONFIG}, days, window_days)


def test_the_first_day_has_no_history_and_keeps_the_prior():
    fits = _fits(_day(D1, 10, 100), _day(D2, 10, 100), _day(D3, 10, 100))
    first = fits[("chat", D1)]
    assert (first.source, first.days_used, first.requests_used) == ("prior", 0, 0)
    assert fits[("chat", D2)].source == "calibrated"
    assert (fits[("chat", D3)].days_used, fits[("chat", D3)].requests_used) == (2, 800)


def test_a_days_own_timings_never_enter_its_own_fit():
    slow_day2 = _fits(_day(D1, 10, 100), _day(D2, 20, 300), _day(D3, 10, 100))
    fast_day2 = _fits(_day(D1, 10, 100), _day(D2, 8, 50), _day(D3, 10, 100))
    assert slow_day2[("chat", D2)] == fast_day2[("chat", D2)]  # fitted on day 1 only
    # ... while day 3 sees day 2: twice the decode time halves the fitted MBU's share of it
    assert slow_day2[("chat", D3)].efficiency.mbu < fast_day2[("chat", D3)].efficiency.mbu


def test_a_backfill_and_a_daily_run_give_a_day_the_same_fit():
    backfill = _fits(_day(D1, 10, 100), _day(D2, 12, 120), _day(D3, 9, 90))
    daily = calibrate_days(
        pl.concat([_day(D1, 10, 100), _day(D2, 12, 120)]), {"chat": CONFIG}, [("chat", D2)]
    )
    assert daily[("chat", D2)] == backfill[("chat", D2)]


def test_days_before_the_window_are_not_used():
    fits = _fits(_day(D1, 10, 100), _day(D2, 10, 100), _day(D3, 10, 100), window_days=1)
    assert fits[("chat", D3)].days_used == 1
    assert fits[("chat", D3)].requests_used == 400


@pytest.mark.parametrize("n", [299])
def test_too_few_requests_keep_the_prior_and_say_so(n):
    fits = _fits(_day(D1, 10, 100, n=n), _day(D2, 10, 100, n=n), _day(D3, 10, 100, n=n))
    assert fits[("chat", D2)].source == "prior"
    assert fits[("chat", D3)].source == "calibrated"  # 598 requests over the two days before
