"""The registry's api section reaches the engine through the warehouse (dim_deployments ->
sql/configs.sql -> DeploymentConfig), on the hand-built fixture warehouse."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pipelines.recommend.warehouse_inputs import load_warehouse_inputs
from pipelines.warehouse import connect

FIXTURE = Path(__file__).parents[2] / "fixtures" / "recommend" / "warehouse.sql"
DAY = dt.date(2026, 11, 2)


def test_api_eligibility_and_substitutes_are_read_from_dim_deployments(tmp_path):
    path = tmp_path / "unitcost.duckdb"
    with connect(path) as con:
        con.execute(FIXTURE.read_text())
        con.execute(
            "update marts.dim_deployments set api_eligible = true, "
            "api_substitute_llm_ids = ['llama-3.1-8b', 'qwen2.5-7b'] "
            "where deployment_id = 'chat-8b'"
        )
    with connect(path, read_only=True) as con:
        configs = load_warehouse_inputs(con, DAY, DAY + dt.timedelta(days=1)).configs
    chat, batch = configs["chat-8b"], configs["batch-70b"]
    assert (chat.api_eligible, chat.api_substitutes) == (True, ("llama-3.1-8b", "qwen2.5-7b"))
    assert (batch.api_eligible, batch.api_substitutes) == (False, ())
