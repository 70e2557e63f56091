"""A real vLLM V1 scrape (tests/fixtures/vllm) through the telemetry ingest: the families
fct_saturation_hourly reads are stored, the preemption counter among them."""

from __future__ import annotations

import datetime as dt
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
