"""The request-log core never imports dagster, and the raw contract has no text columns."""

from __future__ import annotations

import subprocess
import sys

from pipelines.ingest.requests.schema import RAW_REQUESTS


def test_request_ingest_never_imports_dagster():
    code = (
        "import sys, pkgutil, importlib; import pipelines.ingest.requests as p\n"
        "for m in pkgutil.walk_packages(p.__path__, p.__name__ + '.'):\n"
        "    importlib.import_module(m.name)\n"
        "import pipelines.fleet.formats.request_logs, pipelines.bench.requests\n"
        "print(sorted(x for x in ('dagster', 'dagster_dbt') if x in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_raw_contract_names_and_no_text_columns():
    assert list(RAW_REQUESTS) == [
        "request_source", "request_id", "model_name", "host", "pod", "server", "namespace",
        "arrival_ts", "first_token_ts", "finish_ts", "ttft_ms", "e2e_ms", "input_tokens",
        "output_tokens", "cached_tokens", "usage_missing", "invalid_utf8", "status", "user_hash",
        "source_file_id", "source_line", "tenant",
    ]  # fmt: skip
    forbidden = ("prompt", "completion", "message", "content", "choice", "response", "user")
    assert [c for c in RAW_REQUESTS if any(w in c for w in forbidden) and c != "user_hash"] == []
