"""The cost model's LLM catalog against ../shared/data/models/model_architectures.csv (our
transcription of public HF configs, each row naming its source): same hyper-parameters, and
the parameter count the cost model computes equals the file's params_computed_billion."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from pipelines.costmodel.architecture import parameter_counts
from pipelines.costmodel.catalog import llm_architecture, llm_ids

MODELS = Path(__file__).resolve().parents[3].parent / "shared/data/models/model_architectures.csv"
FIELDS = (
    "num_layers", "hidden_size", "num_attention_heads", "num_key_value_heads", "head_dim",
    "intermediate_size", "vocab_size", "max_position_embeddings", "num_experts",
    "experts_per_token",
)  # fmt: skip


@pytest.mark.skipif(not MODELS.is_file(), reason="../shared/data is not on this machine")
def test_every_model_of_the_file_is_in_the_catalog_with_its_config_and_parameter_count():
    with MODELS.open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 14  # 13 models, Llama-3.1-8B twice (two sources)
    by_name = {llm_architecture(i).display_name: llm_architecture(i) for i in llm_ids()}
    seen = set()
    for row in rows:
        name = row["model"].split(" (")[0]  # "Llama-2-70B (upstage … finetune, same arch)"
        arch = by_name[name]
        seen.add(name)
        for field in FIELDS:
            if row[field] != "":  # blank: the source gives no value
                assert getattr(arch, field) == int(row[field]), (name, field)
        assert arch.tie_word_embeddings == (row["tie_word_embeddings"].lower() == "true"), name
        counts = parameter_counts(arch)
        # the file's figures are to 0.001 B: what the cost model computes rounds to them
        assert round(counts.total_params / 1e9, 3) == float(row["params_computed_billion"]), name
        if row["active_params_computed_billion"]:
            active = float(row["active_params_computed_billion"])
            assert round(counts.active_params / 1e9, 3) == active, name
    assert len(seen) == 13
