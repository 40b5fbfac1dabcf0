"""Reading a scenario file: YAML (duplicate keys refused) into the pydantic schema, every problem as one line
that names the file, the line, the step (or member, or receivable) and the field."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from chain_client.scenario.models import Scenario

PathItem = str | int
YamlPath = tuple[PathItem, ...]


class ScenarioError(Exception):
    """The scenario cannot be run as written; `problems` holds one line per problem."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class Problem:
    """Something wrong at `path` in the file (`('steps', 3, 'pay', 'to', 0, 'amount')`)."""

    path: YamlPath
    message: str


class _Loader(yaml.SafeLoader):
    """PyYAML keeps the last of two equal keys without a word; a scenario must not lose a line like that."""

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise ConstructorError(None, None, f"key {key!r} appears twice in one mapping", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


class Locator:
    """Line numbers of places in the YAML text, from its node tree."""

    def __init__(self, root: Node | None) -> None:
        self.root = root

    def line(self, path: YamlPath) -> int | None:
        """1-based line of the deepest node on `path` that exists in the file (None: not from the file)."""
        node = self.root
        if node is None:
            return None
        for item in path:
            child = self._child(node, item)
            if child is None:
                break
            node = child
        return node.start_mark.line + 1

    @staticmethod
    def _child(node: Node, item: PathItem) -> Node | None:
        if isinstance(node, SequenceNode) and isinstance(item, int):
            return node.value[item] if 0 <= item < len(node.value) else None
        if isinstance(node, MappingNode):
            for key, value in node.value:
                if isinstance(key, ScalarNode) and key.value == str(item):
                    return value if isinstance(value, MappingNode | SequenceNode) else key
        return None


@dataclass(frozen=True)
class Source:
    """A scenario file as read: its text's hash identifies it in a journal."""

    path: Path
    scenario: Scenario
    sha256: str
    locator: Locator
    file_steps: int  # steps written in the file (the generator's come after)

    def describe(self, problem: Problem) -> str:
        return describe(self.path.name, self.locator, problem, self.scenario.model_dump(by_alias=True))


def load(path: str | Path, *, seed: int | None = None) -> Source:
    """Read and validate `path`; `seed` overrides `settings.seed`. Raises `ScenarioError`."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError([f"{file}: cannot read it ({exc.strerror or exc})"]) from None
    except UnicodeDecodeError:
        raise ScenarioError([f"{file}: not UTF-8 text"]) from None
    try:
        root = yaml.compose(text, Loader=_Loader)
        data = yaml.load(text, Loader=_Loader)  # a SafeLoader: builds plain data only
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f"{file.name}:{mark.line + 1}" if mark is not None else file.name
        problem = getattr(exc, "problem", None) or str(exc)
        raise ScenarioError([f"{where}: not valid YAML: {problem}"]) from None
    locator = Locator(root)
    if not isinstance(data, dict):
        raise ScenarioError([f"{file.name}:1: a scenario is a mapping with name, members, receivables and steps"])
    if seed is not None:
        settings = data.get("settings")
        data = {**data, "settings": {**(settings if isinstance(settings, dict) else {}), "seed": seed}}
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        problems = [Problem(_yaml_path(err["loc"]), _message(err["msg"])) for err in exc.errors()]
        raise ScenarioError([describe(file.name, locator, p, data) for p in problems]) from None
    digest = hashlib.sha256(text.encode()).hexdigest()
    steps = data.get("steps")
    return Source(file, scenario, digest, locator, len(steps) if isinstance(steps, list) else 0)


def _yaml_path(loc: tuple[int | str, ...]) -> YamlPath:
    """pydantic's location without the union tags it inserts for a step (`steps, 3, pay, pay, to` -> `steps,
    3, pay, to`)."""
    if len(loc) >= 3 and loc[0] == "steps":
        return (loc[0], loc[1], *loc[3:])
    return tuple(loc)


def _message(msg: str) -> str:
    return msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")


def describe(file: str, locator: Locator, problem: Problem, data: dict[str, Any]) -> str:
    """`hubei_auto.yaml:41: step 7 (pay): to[1].member: unknown member 'Hanyang Casting' ...`"""
    path = problem.path
    line = locator.line(path)
    where = f"{file}:{line}" if line is not None else file
    head, rest = _subject(path, data)
    field = _field(rest)
    return f"{where}: {head}: {field + ': ' if field else ''}{problem.message}"


def _subject(path: YamlPath, data: dict[str, Any]) -> tuple[str, YamlPath]:
    if len(path) >= 2 and isinstance(path[1], int):
        section, index = path[0], path[1]
        if section == "steps":
            verb = path[2] if len(path) >= 3 and isinstance(path[2], str) else None
            return f"step {index + 1}" + (f" ({verb})" if verb else ""), path[3:]
        singular = {"members": "member", "receivables": "receivable"}.get(str(section), str(section))
        name = _name_at(data, str(section), index)
        return f"{singular} {index + 1}" + (f" ({name})" if name else ""), path[2:]
    return str(path[0]) if path else "scenario", path[1:]


def _name_at(data: dict[str, Any], section: str, index: int) -> str | None:
    """The `name` of item `index` of `section` in the file's data, if it has one."""
    items = data.get(section)
    if not isinstance(items, list) or not 0 <= index < len(items) or not isinstance(items[index], dict):
        return None
    name = items[index].get("name")
    return str(name) if name is not None else None


def _field(rest: YamlPath) -> str:
    out = ""
    for item in rest:
        out += f"[{item}]" if isinstance(item, int) else (f".{item}" if out else str(item))
    return out
