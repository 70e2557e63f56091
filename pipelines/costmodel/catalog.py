"""The LLM architecture and GPU catalogs shipped as CSV files beside this module.

Every row carries its source. Ids are lower-case and stable: the deployment registry, the
simulator and the cost model all refer to LLMs and GPUs by these ids.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA_DIR = Path(__file__).parent / "data"
LLM_CATALOG_PATH = DATA_DIR / "llm_architectures.csv"
# LLMs that only published measurements use (e.g. kipply's 13B): kept out of ``llm_ids()`` so
# the deployment registry never accepts them.
VALIDATION_LLM_CATALOG_PATH = DATA_DIR / "validation_llms.csv"
GPU_CATALOG_PATH = DATA_DIR / "gpus.csv"


@dataclass(frozen=True)
class LLMArchitecture:
    """Hyper-parameters of one open LLM, as in its Hugging Face ``config.json``."""

    llm_id: str
    display_name: str
    family: str
    num_layers: int
    hidden_size: int
    num_attention_heads: int
    num_key_value_heads: int
    head_dim: int
    intermediate_size: int
    vocab_size: int
    max_position_embeddings: int
    tie_word_embeddings: bool
    num_experts: int | None
    experts_per_token: int | None
    qkv_bias: bool
    gated_mlp: bool
    source_repo: str
    source_path: str
    source_commit: str
    note: str

    @property
    def is_moe(self) -> bool:
        return bool(self.num_experts)


def _int_or_none(value: str) -> int | None:
    return int(value) if value.strip() else None


def _bool(value: str) -> bool:
    return value.strip().lower() == "true"


@cache
def llm_catalog() -> dict[str, LLMArchitecture]:
    """All LLM architectures, keyed by ``llm_id``."""
    return _load_llm_csv(LLM_CATALOG_PATH)


@cache
def validation_llm_catalog() -> dict[str, LLMArchitecture]:
    """Architectures used only by the published-measurement table, keyed by ``llm_id``."""
    return _load_llm_csv(VALIDATION_LLM_CATALOG_PATH)


def llm_architecture(llm_id: str) -> LLMArchitecture:
    """The architecture of ``llm_id`` (catalog first, then validation-only LLMs).

    Raises
    ------
    KeyError
        If the id is in neither catalog; the message lists the known ids.
    """
    for catalog in (llm_catalog(), validation_llm_catalog()):
        if llm_id in catalog:
            return catalog[llm_id]
    raise KeyError(f"unknown LLM {llm_id!r}; known: {', '.join(llm_ids())}")


def _load_llm_csv(path: Path) -> dict[str, LLMArchitecture]:
    rows: dict[str, LLMArchitecture] = {}
    with path.open(newline="") as fh:
        for row in csv.DictReader(fh):
            arch = LLMArchitecture(
                llm_id=row["llm_id"],
                display_name=row["display_name"],
                family=row["family"],
                num_layers=int(row["num_layers"]),
                hidden_size=int(row["hidden_size"]),
                num_attention_heads=int(row["num_attention_heads"]),
                num_key_value_heads=int(row["num_key_value_heads"]),
                head_dim=int(row["head_dim"]),
                intermediate_size=int(row["intermediate_size"]),
                vocab_size=int(row["vocab_size"]),
                max_position_embeddings=int(row["max_position_embeddings"]),
                tie_word_embeddings=_bool(row["tie_word_embeddings"]),
                num_experts=_int_or_none(row["num_experts"]),
                experts_per_token=_int_or_none(row["experts_per_token"]),
                qkv_bias=_bool(row["qkv_bias"]),
                gated_mlp=_bool(row["gated_mlp"]),
                source_repo=row["source_repo"],
                source_path=row["source_path"],
                source_commit=row["source_commit"],
                note=row["note"],
            )
            rows[arch.llm_id] = arch
    return rows


@cache
def gpu_catalog_rows() -> dict[str, dict[str, str]]:
    """Raw GPU catalog rows keyed by ``gpu_id`` (the cost model builds typed specs on top)."""
    with GPU_CATALOG_PATH.open(newline="") as fh:
        return {row["gpu_id"]: row for row in csv.DictReader(fh)}


def llm_ids() -> list[str]:
    return sorted(llm_catalog())


def gpu_ids() -> list[str]:
    return sorted(gpu_catalog_rows())
