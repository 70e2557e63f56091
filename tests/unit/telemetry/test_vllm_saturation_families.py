"""A real vLLM V1 scrape (tests/fixtures/vllm) through the telemetry ingest: the families
fct_saturation_hourly reads are stored, the preemption counter among them."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import polars as pl

from pipelines.ingest.storage import list_files
from pipelines.ingest.telemetry.load import read_day

FIXTURE = (
    Path(__file__).parents[2]
    / "fixtures"
    / "vllm"
    / "vllm_v1_qwen2.5-0.5b_idle_metrics__k8s-ai-conformance_kops.prom"
)
SCRAPE_TS = dt.datetime(2026, 11, 1, 10, tzinfo=dt.UTC)


def test_the_saturation_families_of_a_real_scrape_are_stored(tmp_path):
    # The file is the server's own /metrics, without the instance label a Prometheus scrape
    # adds (ingest quarantines samples with no host): add it to every series, as the
    # scraper would, line for line. No sample timestamps: the capture time is in the name.
    text = FIXTURE.read_text().replace('{engine="0"', '{instance="10.0.0.5:8000",engine="0"')
    (tmp_path / "vllm-0_20261101T100000Z.prom").write_text(text)
    day = read_day(list_files(tmp_path), SCRAPE_TS.date())
    stored = day.engine.filter(
        pl.col("metric").is_in(
            ["kv_cache_usage_perc", "num_requests_waiting", "num_preemptions_total"]
        )
    )
    # read off the file by hand: lines 60, 68 and 107, each 0.0, one server (engine "0")
    assert sorted(stored.select("metric", "value", "model_name", "host").rows()) == [
        ("kv_cache_usage_perc", 0.0, "Qwen/Qwen2.5-0.5B-Instruct", "10.0.0.5"),
        ("num_preemptions_total", 0.0, "Qwen/Qwen2.5-0.5B-Instruct", "10.0.0.5"),
        ("num_requests_waiting", 0.0, "Qwen/Qwen2.5-0.5B-Instruct", "10.0.0.5"),
    ]
    assert stored["ts"].unique().to_list() == [SCRAPE_TS]
    assert stored["source_line"].sort().to_list() == [60, 68, 107]


def _raw_series(text: str) -> list[tuple[int, str, float]]:
    """(line, name, value) of every ``vllm:`` sample line, read with string splits only."""
    out = []
    for n, line in enumerate(text.splitlines(), start=1):
        if line.startswith("vllm:"):
            out.append((n, re.split(r"[{ ]", line, maxsplit=1)[0], float(line.rsplit(" ", 1)[1])))
    return out


def test_every_vllm_family_of_the_real_scrape_is_stored_and_idle_zeros_stay_zero(tmp_path):
    raw = FIXTURE.read_text()
    # The scraper's instance label on every vLLM series (cache_config_info's labels do not
    # start with engine, hence the regex), as in the test above.
    text = re.sub(r"^(vllm:[^{ ]+)\{", r'\1{instance="10.0.0.5:8000",', raw, flags=re.M)
    (tmp_path / "vllm-0_20261101T100000Z.prom").write_text(text)
    day = read_day(list_files(tmp_path), SCRAPE_TS.date())
    families = re.findall(r"^# TYPE vllm:(\S+) (\S+)$", raw, flags=re.M)
    series = _raw_series(raw)
    kept = [s for s in series if not s[1].endswith("_bucket")]
    # counted from the text: 67 families, 354 vllm: sample lines, 258 of them buckets;
    # 41 non-vllm samples (python_gc_*, process_*, http_*)
    assert (len(families), len(series), len(kept)) == (67, 354, 96)
    assert day.quarantine.height == 0
    assert day.input_samples == 395
    assert sum(day.counts.stored.values()) == 96
    assert sum(day.counts.not_used.values()) == 258 + 41
    stored = day.engine
    assert stored.height == 96
    # every family has its stored series: counters and gauges by name, histograms by
    # _sum/_count
    names = set(stored["metric"].str.replace(r"\{.*$", ""))
    for family, kind in families:
        wanted = {f"{family}_sum", f"{family}_count"} if kind == "histogram" else {family}
        assert wanted <= names, (family, kind)
    # row for row against the text: same line, same value; the 57 zeros stay 0.0
    by_line = {n: (name, value) for n, name, value in kept}
    for row in stored.iter_rows(named=True):
        name, value = by_line[row["source_line"]]
        assert name == "vllm:" + row["metric"].split("{")[0]
        assert row["value"] == value
    assert stored["value"].null_count() == 0
    assert (stored["value"] == 0.0).sum() == sum(v == 0.0 for _, _, v in kept) == 57


def test_series_told_apart_by_a_vllm_label_are_kept_apart(tmp_path):
    # engine_sleep_state (lines 63-65), request_success_total (147-151) and
    # prompt_tokens_by_source_total (119-121) are one family, 3-5 series each: with the
    # label dropped they collided (conflicting duplicates, quarantined).
    text = re.sub(
        r"^(vllm:[^{ ]+)\{", r'\1{instance="10.0.0.5:8000",', FIXTURE.read_text(), flags=re.M
    )
    (tmp_path / "vllm-0_20261101T100000Z.prom").write_text(text)
    engine = read_day(list_files(tmp_path), SCRAPE_TS.date()).engine
    rows = engine.filter(pl.col("source_line").is_between(63, 65)).sort("source_line")
    assert rows.select("metric", "value").rows() == [
        ('engine_sleep_state{sleep_state="awake"}', 1.0),
        ('engine_sleep_state{sleep_state="weights_offloaded"}', 0.0),
        ('engine_sleep_state{sleep_state="discard_all"}', 0.0),
    ]
    success = engine.filter(pl.col("metric").str.starts_with("request_success_total"))
    assert success["metric"].to_list() == [
        'request_success_total{finished_reason="stop"}',
        'request_success_total{finished_reason="length"}',
        'request_success_total{finished_reason="abort"}',
        'request_success_total{finished_reason="error"}',
        'request_success_total{finished_reason="repetition"}',
    ]
    by_source = engine.filter(pl.col("metric").str.starts_with("prompt_tokens_by_source_total"))
    assert by_source["source_line"].to_list() == [119, 120, 121]
