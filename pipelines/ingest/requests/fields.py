"""The allow-list: which fields of each request-log format are read, and what they become.

Only the paths listed here are ever read (RELIABILITY.md case 31, §5 PII). Prompts
(``messages``, ``prompt``), completions (``choices``, ``response``), client IPs, API keys and
free-text error messages are never named, so DuckDB's ``read_json(columns=...)`` projects them
away and the careful per-line path never copies them out of the parsed object.

Mapping to ``raw.inference_requests`` (``schema.RAW_REQUESTS``), per format:

* ``vllm_jsonl`` (a gateway's OpenAI-compatible log; vLLM itself logs no per-request JSON):
  request_id ← ``id``; model_name ← ``model``; host, pod, namespace ← same names (host
  else the host of ``api_base``); server ← host:port of ``api_base`` (the engine server that
  served it, when the gateway logs its upstream);
  arrival_ts ← ``arrival_time``, else ``created`` (epoch s), else ``created_at``; first_token_ts
  ← ``first_token_time``, else arrival + ``ttft_ms``; finish_ts ← ``finish_time``, else
  arrival + ``e2e_ms``; input/output_tokens ← ``usage.prompt_tokens`` /
  ``usage.completion_tokens``, else the Responses API's ``usage.input_tokens`` /
  ``usage.output_tokens``; cached_tokens ← ``usage.prompt_tokens_details.cached_tokens``, else
  ``usage.input_tokens_details.cached_tokens``; status ← ``status_code`` (2xx ok, else
  error), else ``status`` text; user_hash ← ``user``. So a logged Chat Completions or Responses
  body (OpenAI, OpenRouter) is a line of this format. Reasoning tokens are part of the output
  tokens in both APIs (``*_tokens_details.reasoning_tokens`` is a breakdown) and are counted
  there; a provider's billed ``usage.cost`` is not read (an API bill, not a GPU's).
* ``litellm`` (``LiteLLM_SpendLogs`` rows, or its ``StandardLoggingPayload``, as JSON lines):
  request_id ← ``request_id``, else the payload's ``id``;
  model_name ← ``model_group``, else ``model``; host ← the host of ``api_base``; server ←
  its host:port; arrival,
  first token, finish ← ``startTime``, ``completionStartTime``, ``endTime``; tokens ←
  ``prompt_tokens``, ``completion_tokens``; cached_tokens ←
  ``metadata.usage_object.prompt_tokens_details.cached_tokens``; status ← ``status``
  (success ok, failure error); user_hash ← ``end_user``, else ``user``.
* tenant ← the field ``sources.requests.tenant`` picks (``tenants.py``: OpenAI ``user``, a
  gateway header in ``headers``, LiteLLM ``team_id`` / ``metadata.user_api_key_team_id``,
  ``metadata.user_api_key_team_alias``, ``metadata.user_api_key_alias``,
  ``metadata.spend_logs_metadata.<key>``): its paths join the allow-list only when configured.
* ``azure_trace`` / ``mooncake``: see ``traces.py`` (``TIMESTAMP``/``timestamp``,
  ``ContextTokens``/``input_length``, ``GeneratedTokens``/``output_length``; the rest from
  unitcost.yaml).

Timestamps: ISO 8601 with ``Z`` or an offset; without a zone they are UTC (case 11). ttft_ms
and e2e_ms are derived from the timestamps. Missing ``usage`` (streaming without
``include_usage``) leaves the tokens NULL with ``usage_missing`` set (case 27). Numbers given
as strings (``"12"``) are accepted, as DuckDB's cast accepts them.
"""

from __future__ import annotations

from dataclasses import dataclass

STR, INT, NUM, TS = "VARCHAR", "BIGINT", "DOUBLE", "TIMESTAMP"


@dataclass(frozen=True)
class Field:
    """One allow-listed JSON path; ``name`` is its column in the flat frame."""

    name: str
    path: tuple[str, ...]
    kind: str  # STR, INT, NUM or TS (ISO 8601 text, parsed to "<name>_ts" + "<name>__bad")

    @property
    def dotted(self) -> str:
        return ".".join(self.path)


def _f(name: str, path: str, kind: str = STR) -> Field:
    return Field(name, tuple(path.split(".")), kind)


VLLM_JSONL = (
    _f("id", "id"),
    _f("model", "model"),
    _f("created", "created", INT),
    _f("arrival_time", "arrival_time", TS),
    _f("first_token_time", "first_token_time", TS),
    _f("finish_time", "finish_time", TS),
    _f("ttft_ms", "ttft_ms", NUM),
    _f("e2e_ms", "e2e_ms", NUM),
    _f("prompt_tokens", "usage.prompt_tokens", INT),
    _f("completion_tokens", "usage.completion_tokens", INT),
    _f("cached_tokens", "usage.prompt_tokens_details.cached_tokens", INT),
    # The Responses API's names for the same (OpenAI /v1/responses, OpenRouter).
    _f("created_at", "created_at", INT),
    _f("api_input_tokens", "usage.input_tokens", INT),
    _f("api_output_tokens", "usage.output_tokens", INT),
    _f("api_cached_tokens", "usage.input_tokens_details.cached_tokens", INT),
    _f("status_code", "status_code", INT),
    _f("status", "status"),
    _f("user", "user"),
    _f("host", "host"),
    _f("pod", "pod"),
    _f("namespace", "namespace"),
    _f("api_base", "api_base"),
)

LITELLM = (
    _f("id", "request_id"),
    _f("payload_id", "id"),  # a StandardLoggingPayload's request id
    _f("model_group", "model_group"),
    _f("model", "model"),
    _f("arrival_time", "startTime", TS),
    _f("first_token_time", "completionStartTime", TS),
    _f("finish_time", "endTime", TS),
    _f("prompt_tokens", "prompt_tokens", INT),
    _f("completion_tokens", "completion_tokens", INT),
    _f("cached_tokens", "metadata.usage_object.prompt_tokens_details.cached_tokens", INT),
    _f("status", "status"),
    _f("user", "user"),
    _f("end_user", "end_user"),
    _f("api_base", "api_base"),
)

MOONCAKE = (
    _f("timestamp_ms", "timestamp", NUM),
    _f("prompt_tokens", "input_length", INT),
    _f("completion_tokens", "output_length", INT),
)

# Azure's CSV header names, in file order, and their flat names.
AZURE_COLUMNS = {
    "TIMESTAMP": ("arrival_time", STR),
    "ContextTokens": ("prompt_tokens", INT),
    "GeneratedTokens": ("completion_tokens", INT),
}

JSON_FORMATS = {"vllm_jsonl": VLLM_JSONL, "litellm": LITELLM, "mooncake": MOONCAKE}


def duckdb_columns(fields: tuple[Field, ...]) -> dict[str, str]:
    """``read_json(columns=...)``: top-level keys with nested STRUCT types for deeper paths.

    DuckDB casts an object or array in a VARCHAR field to its JSON text, so a
    ``"model": [{"content": …}]`` would become a string: the reader checks for that.
    """
    tree: dict = {}
    for field in fields:
        node = tree
        for key in field.path[:-1]:
            node = node.setdefault(key, {})
        node[field.path[-1]] = STR if field.kind == TS else field.kind

    def render(node) -> str:
        if isinstance(node, str):
            return node
        inner = ", ".join(f'"{k}" {render(v)}' for k, v in node.items())
        return f"STRUCT({inner})"

    return {key: render(value) for key, value in tree.items()}


def duckdb_select(fields: tuple[Field, ...]) -> str:
    """The select list that flattens the nested read into one column per field; timestamps
    are cast here, in the same pass (text in, TIMESTAMPTZ out, no zone read as UTC)."""
    parts = []
    for field in fields:
        path = ".".join(f'"{k}"' for k in field.path)
        if field.kind == TS:
            cast = f"try_cast({path} as timestamptz)"
            parts.append(f'{cast} as "{field.name}_ts"')
            parts.append(f'({path} is not null and {cast} is null) as "{field.name}__bad"')
        else:
            parts.append(f'{path} as "{field.name}"')
    return ", ".join(parts)


# Where each common column comes from in the log, as quarantine rows name it.
_TRACE_PATHS = {"request_id": "line", "cached": "cached_tokens", "first_token": "-", "finish": "-"}
PATHS = {
    "vllm_jsonl": {
        "request_id": "id",
        "arrival": "arrival_time",
        "input": "usage.prompt_tokens",
        "output": "usage.completion_tokens",
        "cached": "usage.prompt_tokens_details.cached_tokens",
        "first_token": "first_token_time",
        "finish": "finish_time",
    },
    "litellm": {
        "request_id": "request_id",
        "arrival": "startTime",
        "input": "prompt_tokens",
        "output": "completion_tokens",
        "cached": "metadata.usage_object.prompt_tokens_details.cached_tokens",
        "first_token": "completionStartTime",
        "finish": "endTime",
    },
    "mooncake": {
        **_TRACE_PATHS,
        "arrival": "timestamp",
        "input": "input_length",
        "output": "output_length",
    },
    "azure_trace": {
        **_TRACE_PATHS,
        "arrival": "TIMESTAMP",
        "input": "ContextTokens",
        "output": "GeneratedTokens",
    },
}
