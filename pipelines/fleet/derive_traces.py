"""Derive the compact trace samples bundled in ``pipelines/fleet/data/traces/``.

A fresh clone has no ``../shared/data``, so the simulator ships what it needs from the real
Azure and Mooncake traces: per request, its arrival offset and token lengths. Run::

    python -m pipelines.fleet.derive_traces ../shared/data

Every row of each source trace is kept (they are small once the prompt-block hashes are gone).
Output is byte-stable: rows in source order, gzip with ``mtime=0`` and no file name.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import json
import sys
from pathlib import Path

OUT_DIR = Path(__file__).parent / "data" / "traces"
COLUMNS = ("offset_ms", "input_tokens", "output_tokens", "cached_tokens")
MOONCAKE_BLOCK_TOKENS = 512  # hash_ids name 512-token prefix blocks (Mooncake FAST25 README)

AZURE = {
    "azure_code": "AzureLLMInferenceTrace_code_2023.csv",
    "azure_conv": "AzureLLMInferenceTrace_conv_2023.csv",
}
MOONCAKE = {
    "mooncake_conversation": "mooncake_conversation_trace.jsonl",
    "mooncake_synthetic": "mooncake_synthetic_trace.jsonl",
}


def _azure_time(value: str) -> dt.datetime:
    # 7 fractional digits ("18:15:46.6805900"): strptime's %f takes at most 6.
    head, _, frac = value.partition(".")
    return dt.datetime.fromisoformat(f"{head}.{(frac + '000000')[:6]}")


def azure_rows(path: Path) -> list[tuple[int, int, int, int]]:
    """Azure has no cache information: ``cached_tokens`` is 0."""
    with path.open(newline="") as fh:
        records = [
            (_azure_time(r["TIMESTAMP"]), int(r["ContextTokens"]), int(r["GeneratedTokens"]))
            for r in csv.DictReader(fh)
        ]
    records.sort(key=lambda r: r[0])  # stable: ties keep file order
    t0 = records[0][0]
    return [((t - t0) // dt.timedelta(milliseconds=1), i, o, 0) for t, i, o in records]


def mooncake_rows(path: Path) -> list[tuple[int, int, int, int]]:
    """``cached_tokens``: leading prompt blocks already seen earlier in the trace.

    That is the prefix-cache hit an unbounded cache would get: an upper bound on real reuse.
    """
    seen: set[int] = set()
    rows = []
    with path.open() as fh:
        for line in fh:
            rec = json.loads(line)
            hits = 0
            for block in rec["hash_ids"]:
                if block not in seen:
                    break
                hits += 1
            seen.update(rec["hash_ids"])
            inp = int(rec["input_length"])
            cached = min(hits * MOONCAKE_BLOCK_TOKENS, inp)
            rows.append((int(rec["timestamp"]), inp, int(rec["output_length"]), cached))
    rows.sort(key=lambda r: r[0])
    return rows


def write_gz_csv(path: Path, rows: list[tuple[int, ...]]) -> None:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    with (
        path.open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as gz,
    ):
        gz.write(text.getvalue().encode())


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m pipelines.fleet.derive_traces SHARED_DATA_DIR", file=sys.stderr)
        return 2
    traces = Path(args[0]) / "llm_traces"
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    for name, file in AZURE.items():
        write_gz_csv(OUT_DIR / f"{name}.csv.gz", azure_rows(traces / file))
    for name, file in MOONCAKE.items():
        write_gz_csv(OUT_DIR / f"{name}.csv.gz", mooncake_rows(traces / file))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
