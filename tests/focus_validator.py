"""The FinOps Foundation's ``focus_validator`` in its own uv virtualenv, for the tests.

It needs Python >= 3.12 (the project runs 3.11), so it lives outside ``.venv``: in
``$UNITCOST_FOCUS_VALIDATOR_VENV`` or ``${XDG_CACHE_HOME:-~/.cache}/unitcost/focus-validator``,
made once (~1.5 min) and reused. How it is installed and run, and why: ../shared/STACK.md
section 5.7 and docs/billing-formats.md.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

VERSION = "2.2.1"
# It pins numpy < 2 but not pyarrow; pyarrow 22 needs numpy 2 and fails to import.
REQUIREMENTS = (f"focus-validator=={VERSION}", "pyarrow<22")
REPO = Path(__file__).parents[1]
AWS_FOCUS_12 = REPO / "tests/fixtures/billing/schemas/aws_focus_1.2_columns__cid_data_exports.csv"
RESULT = re.compile(r"^\S+\s+(?P<rule>[\w-]+): (?P<status>PASS|FAIL|SKIPPED)\s+\((?P<detail>.*)\)$")


class Unavailable(Exception):
    """No Python >= 3.12 or no way to install the validator here: the reason."""


def venv_dir() -> Path:
    if os.environ.get("UNITCOST_FOCUS_VALIDATOR_VENV"):
        return Path(os.environ["UNITCOST_FOCUS_VALIDATOR_VENV"])
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "unitcost" / "focus-validator" / f"venv-{VERSION}"


def _python312() -> str:
    """A Python >= 3.12 executable. pyenv's shims refuse ``python3.12`` unless a version is
    selected, so each installed 3.12/3.13 is tried with ``PYENV_VERSION`` set."""
    pyenv_root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    versions = sorted(p.name for p in (pyenv_root / "versions").glob("3.1[2-9]*"))
    tries = [({"PYENV_VERSION": v}, f"python{'.'.join(v.split('.')[:2])}") for v in versions]
    tries += [({}, "python3.12"), ({}, "python3.13")]
    for extra, exe in tries:
        if shutil.which(exe) is None:
            continue
        probe = subprocess.run(
            [exe, "-c", "import sys; print(sys.executable); print(sys.version_info >= (3, 12))"],
            capture_output=True, text=True, env={**os.environ, **extra}, check=False,
        )  # fmt: skip
        lines = probe.stdout.split()
        if probe.returncode == 0 and lines[-1:] == ["True"]:
            return lines[0]
    raise Unavailable("focus_validator needs Python >= 3.12 and none was found")


def _uv() -> str:
    found = shutil.which("uv") or str(REPO / ".uv" / "bin" / "uv")
    if not Path(found).exists():
        raise Unavailable("uv not found (make setup installs it into .uv/)")
    return found


def ensure_validator() -> Path:
    """The ``focus-validator`` executable, installing it into the cache venv the first time."""
    venv = venv_dir()
    exe = venv / "bin" / "focus-validator"
    if exe.exists():
        return exe
    uv = _uv()
    python = _python312()
    # only-system: uv must not try to download a Python (no network but the registries)
    steps = (
        [uv, "venv", "--quiet", "--python-preference", "only-system", "-p", python, str(venv)],
        [uv, "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"),
         *REQUIREMENTS],
    )  # fmt: skip
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            shutil.rmtree(venv, ignore_errors=True)
            raise Unavailable(f"cannot install focus_validator: {done.stderr.strip()[-400:]}")
    return exe


def typed_parquet(csv_gz: Path, out: Path) -> Path:
    """The CSV as Parquet typed like AWS's FOCUS 1.2 export (``AWS_FOCUS_12``): text stays text
    (so an account id is not read as a number), doubles and timestamps are typed."""
    with open(AWS_FOCUS_12, newline="", encoding="utf-8") as handle:
        aws = {r["column_name_in_export_query"]: r["glue_type_in_cid_focus_table"]
               for r in csv.DictReader(handle) if r["column_name_in_export_query"]}  # fmt: skip
    names = pacsv.read_csv(csv_gz).column_names
    table = pacsv.read_csv(
        csv_gz,
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=True
        ),
    )
    kinds = {"double": pa.float64(), "timestamp": pa.timestamp("ms", tz="UTC")}
    columns = []
    for name in names:
        column = table.column(name)
        kind = kinds.get(aws.get(name, "string"))
        if kind is not None and kind == pa.float64():
            column = column.cast(kind)
        elif kind is not None:
            column = pa.chunked_array(
                [
                    pa.array(
                        [
                            None if v is None else v.replace("Z", "+00:00")
                            for v in column.to_pylist()
                        ],
                        pa.string(),
                    )
                ]  # fmt: skip
            ).cast(pa.timestamp("ms", tz="UTC"))
        columns.append(column)
    pq.write_table(pa.table(columns, names=names), out)
    return out


@dataclass(frozen=True)
class RuleResult:
    status: str  # PASS | FAIL | SKIPPED
    violations: int
    message: str


def validate(data_file: Path, focus_version: str = "1.2") -> dict[str, RuleResult]:
    """Every rule's result for ``data_file``, every applicability criterion on (AWS exports all
    the conditional columns). It exits 0 even when rules fail, so its console report is read."""
    exe = ensure_validator()
    # it opens focus_validator/rules/currency_codes.csv relative to the working directory
    site = next((exe.parent.parent / "lib").glob("python3.*/site-packages"))
    done = subprocess.run(
        [str(exe), "--data-file", str(data_file), "--validate-version", focus_version,
         "--block-download", "--applicability-criteria", "ALL"],
        capture_output=True, text=True, cwd=site, check=False, timeout=600,
    )  # fmt: skip
    results = {}
    for line in done.stdout.splitlines():
        match = RESULT.match(line.strip())
        if match:
            detail = match["detail"]
            count = re.search(r"violations=(\d+)", detail)
            results[match["rule"]] = RuleResult(
                match["status"], int(count[1]) if count else 0, detail
            )
    if not results:
        raise RuntimeError(f"focus_validator printed no results:\n{done.stdout}\n{done.stderr}")
    return results


def failed_children(result: RuleResult) -> list[str]:
    """A composite rule's failing children, from its message ("... failed child rules: [a, b]")."""
    match = re.search(r"failed child rules: \[([^\]]*)\]", result.message)
    return [c.strip() for c in match[1].split(",")] if match else []


def unexplained(results: dict[str, RuleResult], accepted: set[str]) -> dict[str, RuleResult]:
    """Failed rules that are neither accepted nor composites failing only through accepted
    children (to a fixed point)."""
    ok = set(accepted)
    changed = True
    while changed:
        changed = False
        for rule, result in results.items():
            children = failed_children(result)
            if rule not in ok and result.status == "FAIL" and children and set(children) <= ok:
                ok.add(rule)
                changed = True
    return {r: v for r, v in results.items() if v.status == "FAIL" and r not in ok}


if __name__ == "__main__":  # a manual run: python tests/focus_validator.py FILE.csv.gz
    path = Path(sys.argv[1])
    target = typed_parquet(path, Path("/tmp") / (path.name + ".parquet"))
    res = validate(target)
    counts = {s: sum(r.status == s for r in res.values()) for s in ("PASS", "FAIL", "SKIPPED")}
    print(counts)
    for rule, r in sorted(res.items()):
        if r.status == "FAIL":
            print(rule, r.message[:300])
