"""Load a YAML file into a pydantic model, reporting problems by file, line and key path.

The registry, the run config and the fleet spec are all hand-written YAML; a user who makes a
typo must be told exactly where it is (``registry.yaml:14: deployments[1].gpu.count: ...``),
not shown a pydantic traceback.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

M = TypeVar("M", bound=BaseModel)


class StrictModel(BaseModel):
    """Base for config models: unknown keys are errors (they are almost always typos)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class _Loader(yaml.SafeLoader):
    """SafeLoader that leaves dates as strings: pydantic parses them and can then say where a
    bad one is (PyYAML raises a bare ValueError for ``2026-13-01``, with no line)."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}

# A validator that checks several fields at once names the key it blames with this prefix,
# e.g. ``raise ValueError("@tensor_parallel: ...")`` or ``"@deployments[1].id: ..."``.
_KEY_MARK = re.compile(r"^@([A-Za-z0-9_.\[\]-]+): ")


def blame(key: str, message: str) -> ValueError:
    """An error from a model validator, reported at ``key`` (relative to the model)."""
    return ValueError(f"@{key}: {message}")


def _parse_key(key: str) -> tuple[Any, ...]:
    parts: list[Any] = []
    for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", key):
        parts.append(int(index) if index else name)
    return tuple(parts)


class ConfigError(ValueError):
    """A config file that cannot be used; ``problems`` are ``file:line: key.path: message``."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


def key_path(loc: tuple[Any, ...]) -> str:
    """``('deployments', 1, 'gpu', 'count')`` -> ``deployments[1].gpu.count``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int:
    """1-based line of the deepest node on ``loc`` that exists in the YAML tree."""
    if node is None:
        return 1
    line = node.start_mark.line + 1
    for part in loc:
        child = None
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if key_node.value == str(part):
                    child = value_node
                    break
        elif (
            isinstance(node, yaml.SequenceNode)
            and isinstance(part, int)
            and 0 <= part < len(node.value)
        ):
            child = node.value[part]
        if child is None:
            break
        node = child
        line = node.start_mark.line + 1
    return line


def _located(error: dict[str, Any]) -> tuple[tuple[Any, ...], str]:
    """The error's key path and user-facing message."""
    kind, loc = error["type"], tuple(error["loc"])
    if kind == "missing":
        return loc, "required key is missing"
    if kind == "extra_forbidden":
        return loc, "unknown key"
    # pydantic prefixes messages raised from our own validators; the prefix is noise to users.
    message = error["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
    marked = _KEY_MARK.match(message)
    if marked:
        return loc + _parse_key(marked.group(1)), message[marked.end() :]
    return loc, message


def load_yaml_model(path: str | Path, model: type[M], *, context: dict | None = None) -> M:
    """Parse ``path`` and validate it as ``model``; raise :class:`ConfigError` on any problem."""
    path = Path(path)
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{name}: file not found"]) from None
    try:
        node = yaml.compose(text, Loader=_Loader)
        data = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([f"{name}:{line}: invalid YAML: {problem}"]) from None
    if not isinstance(data, dict):
        raise ConfigError([f"{name}:1: (top level): expected a mapping of keys to values"])
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False):
            loc, message = _located(err)
            problems.append(f"{name}:{_line_of(node, loc)}: {key_path(loc)}: {message}")
        raise ConfigError(problems) from None
