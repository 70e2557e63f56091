"""The cost model is a plain library: no dagster, duckdb or polars, and runnable examples."""

import doctest
import importlib
import pkgutil
import subprocess
import sys

import pytest

import pipelines.costmodel

MODULES_WITHOUT_EXAMPLES = {
    "pipelines.costmodel.catalog",
    "pipelines.costmodel.cli",
    "pipelines.costmodel.priors_cli",
    "pipelines.costmodel.report",
}
MODULES = sorted(
    f"pipelines.costmodel.{m.name}" for m in pkgutil.iter_modules(pipelines.costmodel.__path__)
)


def test_importing_every_costmodel_module_pulls_in_no_heavy_dependency():
    code = (
        "import sys\n"
        + "".join(f"import {module}\n" for module in MODULES)
        + "print(','.join(sorted(m for m in ('dagster', 'duckdb', 'polars') if m in sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


@pytest.mark.parametrize("module_name", MODULES)
def test_docstring_examples_run(module_name):
    failures, attempted = doctest.testmod(
        importlib.import_module(module_name), optionflags=doctest.ELLIPSIS
    )
    assert failures == 0
    assert attempted > 0 or module_name in MODULES_WITHOUT_EXAMPLES
