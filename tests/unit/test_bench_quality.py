"""`unitcost bench-quality` on a small day: the planted faults beyond the first frame are
reported, and nothing else fails."""

from __future__ import annotations

from pipelines.cli import main


def test_bench_quality_catches_its_planted_faults(capsys):
    assert main(["bench-quality", "--rows", "20000", "--batch-rows", "3000"]) == 0
    out = capsys.readouterr().out
    assert out.count(": caught") == 3 and "unexpected failures" not in out
