"""Who asked: which field of a request log names the request's tenant (``tenant`` of
``raw.inference_requests``), per format, as ``sources.requests.tenant`` in unitcost.yaml picks.

A tenant is a team label (a LiteLLM team, a virtual key's alias, a gateway's tenant header),
never a person. The one personal choice, ``user`` (OpenAI ``user``; LiteLLM ``end_user``, else
``user``), is stored as its salted hash only (``privacy.py``), unless ``names`` maps the id to
a team. Each choice is a few fixed JSON paths added to the format's allow-list (``fields.py``);
the first non-empty one wins. A request with none of them is ``unattributed`` in the marts.

``{key}`` in a path is the configured ``key``: a header name or a ``spend_logs_metadata`` key.
"""

from __future__ import annotations

import re

from pipelines.ingest.requests.fields import STR, Field

PERSONAL = "user"
# format -> choice -> JSON paths, in order of preference. ``user`` reads the format's own user
# column (already allow-listed), so it adds no path.
CHOICES: dict[str, dict[str, tuple[str, ...]]] = {
    "vllm_jsonl": {
        PERSONAL: (),
        # a gateway that logs (some of) the request's headers as a map, e.g. x-tenant-id
        "header": ("headers.{key}",),
    },
    "litellm": {
        PERSONAL: (),
        # LiteLLM_SpendLogs.team_id; the StandardLoggingPayload has it in metadata
        "team_id": ("team_id", "metadata.user_api_key_team_id"),
        "team_alias": ("metadata.user_api_key_team_alias",),
        "key_alias": ("metadata.user_api_key_alias",),
        # what a client sends in x-litellm-spend-logs-metadata, e.g. {"tenant": "search"}
        "spend_logs_metadata": ("metadata.spend_logs_metadata.{key}",),
    },
}
KEY = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# A tenant name is a label that lands in a mart column and a showback: printable, short.
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._:/@-]{0,63}$")
UNATTRIBUTED = "unattributed"


def needs_key(fmt: str, choice: str) -> bool:
    return any("{key}" in p for p in CHOICES.get(fmt, {}).get(choice, ()))


def tenant_fields(fmt: str, choice: str | None, key: str | None) -> tuple[Field, ...]:
    """The allow-listed fields the choice reads, named ``tenant_0``, ``tenant_1``…"""
    if choice is None:
        return ()
    paths = CHOICES[fmt][choice]
    return tuple(
        Field(f"tenant_{i}", tuple(p.format(key=key).split(".")), STR) for i, p in enumerate(paths)
    )


def raw_sql(fields: tuple[Field, ...]) -> str:
    """The tenant as logged: the first of the fields that is not empty (NULL if none)."""
    parts = [f"nullif(trim(\"{f.name}\"), '')" for f in fields]
    if not parts:
        return "null::varchar"
    return parts[0] if len(parts) == 1 else f"coalesce({', '.join(parts)})"
