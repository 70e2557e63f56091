"""Same spec and seed give byte-identical files; another seed gives other requests."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq

from pipelines.fleet.simulate import simulate


def _files(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_same_seed_gives_byte_identical_files(tmp_path):
    simulate(tmp_path / "one", days=2, scale=0.05, seed=7)
    simulate(tmp_path / "two", days=2, scale=0.05, seed=7)
    one, two = _files(tmp_path / "one"), _files(tmp_path / "two")
    top = {"/".join(Path(name).parts[:2]) for name in one}
    # the fleet's truth plus every source format the ingest issues read
    assert {
        "ground_truth.json",
        "registry.yaml",
        "unitcost.yaml",
        "truth/requests",
        "truth/timeline",
        "logs/requests",
        "telemetry/dcgm",
        "billing/cur2",
        "billing/focus",
    } <= top
    assert "truth/requests/date=2026-11-02/part-0.parquet" in one
    assert one == two


def test_other_seed_gives_other_requests(tmp_path):
    simulate(tmp_path / "one", days=1, scale=0.05, seed=7)
    simulate(tmp_path / "two", days=1, scale=0.05, seed=8)
    part = "truth/requests/date=2026-11-01/part-0.parquet"
    one = pq.read_table(tmp_path / "one" / part)
    two = pq.read_table(tmp_path / "two" / part)
    assert one.num_rows > 1000
    assert not one.equals(two)
    assert one["arrival_ts"] != two["arrival_ts"]


def test_a_day_does_not_depend_on_the_other_days(tmp_path):
    simulate(tmp_path / "long", days=2, scale=0.05, seed=7)
    simulate(tmp_path / "short", days=1, scale=0.05, seed=7)
    for kind in ("requests", "timeline"):
        part = f"truth/{kind}/date=2026-11-01/part-0.parquet"
        assert (tmp_path / "long" / part).read_bytes() == (tmp_path / "short" / part).read_bytes()


def test_rerun_into_the_same_folder_leaves_no_stale_days(tmp_path):
    simulate(tmp_path, days=2, scale=0.01, seed=7)
    simulate(tmp_path, days=1, scale=0.01, seed=7)
    assert [p.name for p in (tmp_path / "truth" / "requests").iterdir()] == ["date=2026-11-01"]


def test_simulate_shows_its_progress_on_stderr_and_writes_the_same_files(tmp_path, capsys):
    quiet = simulate(tmp_path / "quiet", days=2, scale=0.05, seed=7)
    capsys.readouterr()
    shown = simulate(tmp_path / "shown", days=2, scale=0.05, seed=7, progress=True)
    err = capsys.readouterr().err
    # two days of requests, then the three sources' files (the bar clears itself at the end)
    assert "0/5" in err
    for stage in ("requests 2026-11-02", "request_logs", "telemetry", "billing"):
        assert stage in err
    assert shown == quiet
