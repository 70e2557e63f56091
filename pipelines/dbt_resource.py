"""The dbt CLI resource: dagster-dbt's ``DbtCliResource``, started the way unitcost needs.

- through the launcher that ties dbt's life to the run's (``DBT_EXECUTABLE``);
- in a target folder that starts with dbt's last parse (``new_target_path``), so dbt skips
  parsing when nothing changed;
- with extra environment for dbt only (``cli(..., env=...)``: the partition window);
- without dagster-dbt's per-step start-up work that unitcost never uses. dagster-dbt 0.29
  (``DbtCliResource.cli``) runs ``dbt --version`` once per resource instance, that is once per
  step (a whole dbt start-up plus a query to PyPI for the latest release: 2-7 s measured), to
  tell dbt-core from the Fusion engine, and opens a dbt-core adapter in this process (1-3 s)
  that serves only ``fetch_row_counts`` and ``fetch_column_metadata``. Its API has no option
  for either: here the version is the dbt-core installed beside us (the launcher runs it), and
  there is no adapter. Both are private members, so this is the fragile part: kept to these
  two overrides, and tests/unit/test_run_machinery.py
  (``test_dagster_dbt_still_has_the_private_members_the_dbt_resource_replaces``) fails if an
  upgrade renames them, changes their signature or stops calling them from ``cli``.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliInvocation, DbtCliResource
from packaging import version

from pipelines.config import exported
from pipelines.dbt_project import DBT_EXECUTABLE, dbt_project, new_target_path


class UnitcostDbtCliResource(DbtCliResource):
    """``DbtCliResource`` for unitcost's dbt project (see the module docstring)."""

    # Private in dagster-dbt: replaces `dbt --version` (a dbt start-up per step) with the
    # installed dbt-core's version, which is what DBT_EXECUTABLE runs.
    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(importlib.metadata.version("dbt-core"))

    # Private in dagster-dbt: no in-process adapter (1-3 s a step); it serves only
    # fetch_row_counts / fetch_column_metadata, which unitcost does not call.
    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:
        return None

    def cli(
        self,
        args: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        context: dg.AssetExecutionContext | dg.OpExecutionContext | None = None,
        **kwargs: Any,
    ) -> DbtCliInvocation:
        if context is not None and kwargs.get("target_path") is None:
            op_context = context.op_execution_context
            kwargs["target_path"] = new_target_path(op_context.op.name, op_context.run_id)
        # dagster-dbt starts dbt inside `cli` with a copy of os.environ and takes no env of its
        # own. Steps run one at a time in a run's process (in-process executor; the dbt assets
        # share the `duckdb` pool), so nothing else reads the environment meanwhile.
        with exported(env or {}):
            return super().cli(args, context=context, **kwargs)


def dbt_cli_resource() -> UnitcostDbtCliResource:
    """The dbt CLI resource for this project."""
    return UnitcostDbtCliResource(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE)
