"""The dbt project (at the repository root) as Dagster sees it.

Importing this module never runs dbt: callers that need the manifest call ``prepare_dbt()``
first (``unitcost run`` and the tests), while ``dagster dev`` parses through ``prepare_if_dev``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject

DBT_PROJECT_DIR = Path(__file__).resolve().parent.parent
DBT_EXECUTABLE = str(Path(sys.executable).parent / "dbt")

dbt_project = DbtProject(
    project_dir=DBT_PROJECT_DIR,
    profiles_dir=DBT_PROJECT_DIR,
    target=os.environ.get("UNITCOST_DBT_TARGET", "dev"),
)


def _manifest_is_fresh() -> bool:
    manifest = dbt_project.manifest_path
    if not manifest.exists():
        return False
    sources = [DBT_PROJECT_DIR / "dbt_project.yml", DBT_PROJECT_DIR / "profiles.yml"]
    for folder in ("models", "macros", "data-tests"):
        sources += (DBT_PROJECT_DIR / folder).rglob("*")
    return manifest.stat().st_mtime >= max(p.stat().st_mtime for p in sources if p.is_file())


def prepare_dbt() -> Path:
    """Run ``dbt parse`` unless the manifest is newer than every dbt file; returns its path."""
    if _manifest_is_fresh():
        return dbt_project.manifest_path
    # DbtProject's own preparer looks for `dbt` on PATH, which a venv run without activation lacks.
    (
        DbtCliResource(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE)
        .cli(["parse", "--quiet"], target_path=dbt_project.target_path)
        .wait()
    )
    return dbt_project.manifest_path
