"""Reading a scenario file: YAML (duplicate keys refused) into the pydantic schema, every problem as one line
that names the file, the line, the step (or member, or receivable) and the field.

A file with mistakes of shape is still dry-run on its well-formed part (`dry_run_the_rest`), so that a user
sees the mistakes of shape, the unknown names and what the simulation refuses in one run, not in three.
"""

from __future__ import annotations

import hashlib
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from difflib import get_close_matches
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, Tag, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from chain_client.apps.scenario.models import Scenario
from chain_client.exceptions import ChainError

PathItem = str | int
YamlPath = tuple[PathItem, ...]


class ScenarioError(ChainError, ValueError):
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
        problems = _shape_problems(exc.errors())
        # Not only the shape: the dry run's findings (names, amounts, states) on what is well formed, so that
        # one run reports every mistake that can be found rather than one kind per run.
        problems += dry_run_the_rest(data, problems)
        problems.sort(key=lambda p: locator.line(p.path) or 0)  # stable: in the file's order, shape first
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


def _shape_problems(errors: list[ErrorDetails]) -> list[Problem]:
    """One problem per mistake: a misspelt key is an unknown key, not also a missing one."""
    meant = {(err["loc"][:-1], close) for err in errors if (close := _meant(err)) is not None}
    return [
        Problem(_yaml_path(err["loc"]), _message(err))
        for err in errors
        if not (err["type"] == "missing" and (err["loc"][:-1], err["loc"][-1]) in meant)
    ]


def _meant(err: ErrorDetails) -> str | None:
    """For an unknown key, the key of its mapping it is closest to (if any is close)."""
    model = _model_at(err["loc"][:-1]) if err["type"] == "extra_forbidden" and err["loc"] else None
    if model is None:
        return None
    close = get_close_matches(
        str(err["loc"][-1]), [info.alias or name for name, info in model.model_fields.items()], n=1
    )
    return close[0] if close else None


def _message(err: ErrorDetails) -> str:
    """pydantic's message, or for a key that is missing or unknown, what is expected there."""
    loc = err["loc"]
    model = _model_at(loc[:-1]) if loc else None
    if model is not None and err["type"] == "missing":
        info = _field_info(model, str(loc[-1]))
        return "required, missing" + (f" ({info.description})" if info is not None and info.description else "")
    if model is not None and err["type"] == "extra_forbidden":
        keys = [info.alias or name for name, info in model.model_fields.items()]
        close = _meant(err)
        return f"unknown key{f' (did you mean {close!r}?)' if close else ''}; expected {', '.join(keys)}"
    return err["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")


def _model_at(loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    """The model that reads the mapping at pydantic's location `loc` (its tags included), if one does."""
    node: Any = Scenario
    for item in loc:
        node = _bare(node)
        if isinstance(node, type) and issubclass(node, BaseModel):
            info = _field_info(node, str(item))
            if info is None:
                return None
            node = info.annotation
        elif get_origin(node) in (list, tuple) and isinstance(item, int):
            node = get_args(node)[0]
        elif get_origin(node) in (Union, UnionType):  # the steps: pydantic's location names the tag
            node = next((a for a in get_args(node) if Tag(str(item)) in get_args(a)[1:]), None)
        else:
            return None
    node = _bare(node)
    return node if isinstance(node, type) and issubclass(node, BaseModel) else None


def _bare(annotation: Any) -> Any:
    """`Annotated[X, ...]` and `X | None` as X (a union of several types stays)."""
    while True:
        if get_origin(annotation) is Annotated:
            annotation = get_args(annotation)[0]
            continue
        if get_origin(annotation) in (Union, UnionType):
            kept = [a for a in get_args(annotation) if a is not type(None)]
            if len(kept) == 1:
                annotation = kept[0]
                continue
        return annotation


def _field_info(model: type[BaseModel], key: str) -> FieldInfo | None:
    return next((info for name, info in model.model_fields.items() if key in (name, info.alias)), None)


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


# ---------------------------------------------------------------------------------------------- the rest


_SECTIONS = ("members", "receivables", "steps")


def dry_run_the_rest(data: dict[str, Any], shape: Sequence[Problem]) -> list[Problem]:
    """The dry run's problems in the well-formed part of a file whose `shape` problems pydantic found, in the
    file's places; only those that cannot be a consequence of leaving the ill-formed items out:

    - an ill-formed member, receivable or step is left out, and any problem about a name it defines (a member,
      a receivable, a fragment or financing named with `as:`) is not reported: it is its own mistake's echo;
    - after the first ill-formed step (or everywhere, if `settings:` is ill-formed) the model's state (time,
      holdings, cash, receivable states) is not what the file means, so only names that the file defines
      nowhere are reported there: those are mistakes whatever the state.

    The dry run does not run at all when what it needs is ill-formed as a whole: a section that is not a list,
    a `generate:` section (its generated part would be missing, and the file's steps may use its names), a
    problem of the whole file (no receivables, a name given twice), or a part that is still invalid together.
    """
    part = _Part.of(data, shape)
    if part is None:
        return []
    # Imported here: the dry run (plan, context) imports this module for Problem and YamlPath.
    from chain_client.apps.scenario.generate import expand
    from chain_client.apps.scenario.plan import PlanError, build_plan

    try:
        scenario = expand(Scenario.model_validate(part.data))
    except (ValidationError, ValueError):
        return []
    try:
        # The wall clock, as `--dry-run` uses: nothing will be sent, the file has to be fixed first.
        build_plan(scenario, t0=int(time.time()))
    except PlanError as exc:
        defined = part.defined | _defined(scenario.model_dump(by_alias=True))
        return [p for q in exc.problems if (p := part.place(q)) is not None and part.keeps(p, defined)]
    return []


@dataclass
class _Part:
    """The well-formed part of a file: its data, where its items are in the file, and what was left out."""

    file: dict[str, Any]
    data: dict[str, Any]
    index: dict[str, list[int]]  # section -> the file's index of each item kept
    left_out: set[str]  # names that ill-formed items define
    trusted_steps: int  # the model's state is the file's before this step (its 0-based index in the file)
    settings_ok: bool
    defined: set[str]  # every name the file defines, well-formed or not

    @classmethod
    def of(cls, data: dict[str, Any], shape: Sequence[Problem]) -> _Part | None:
        bad: dict[str, set[int]] = {section: set() for section in _SECTIONS}
        bad_settings: set[str] = set()
        for problem in shape:
            path = problem.path
            if not path or path[0] == "generate":
                return None
            head = str(path[0])
            if head in _SECTIONS:
                if len(path) < 2 or not isinstance(path[1], int):
                    return None  # the section as a whole (not a list, a name twice): nothing to stand on
                bad[head].add(path[1])
            elif head == "settings":
                bad_settings.add(str(path[1]) if len(path) > 1 else "")
        part = {k: v for k, v in data.items() if k in Scenario.model_fields}  # unknown keys: reported, unused
        if any(p.path[:1] == ("name",) for p in shape):
            part["name"] = "scenario"
        if any(p.path[:1] == ("description",) for p in shape):
            part["description"] = ""
        settings = data.get("settings")
        if bad_settings:  # the defaults instead: the state is not the file's, see `keeps`
            given = settings if isinstance(settings, dict) and "" not in bad_settings else {}
            part["settings"] = {k: v for k, v in given.items() if k not in bad_settings}
        index: dict[str, list[int]] = {}
        left_out: set[str] = set()
        for section in _SECTIONS:
            items = data.get(section) or []
            index[section] = [i for i in range(len(items)) if i not in bad[section]]
            part[section] = [items[i] for i in index[section]]
            for i in bad[section]:
                left_out |= _names_in(section, [items[i]])
        trusted = min(bad["steps"], default=sys.maxsize)
        return cls(data, part, index, left_out, trusted, not bad_settings, _defined(data))

    def place(self, problem: Problem) -> Problem | None:
        """`problem` with the file's index of its item instead of the part's."""
        path = problem.path
        if len(path) < 2 or str(path[0]) not in self.index or not isinstance(path[1], int):
            return problem
        section, i = str(path[0]), path[1]
        kept = self.index[section]
        if i >= len(kept):  # generated: after what the file writes
            i += len(self.file.get(section) or []) - len(kept)
        else:
            i = kept[i]
        return Problem((section, i, *path[2:]), problem.message)

    def keeps(self, problem: Problem, defined: set[str]) -> bool:
        named = _value_at(self.file, problem.path)
        name = named.strip() if isinstance(named, str) else None
        if name in self.left_out:
            return False  # an echo of the ill-formed item that defines this name
        path = problem.path
        if path[:1] == ("steps",):
            trusted = self.settings_ok and isinstance(path[1], int) and path[1] < self.trusted_steps
        else:
            trusted = self.settings_ok  # the set-up (members, receivables) comes before any step
        return trusted or (name is not None and name not in defined)  # a name defined nowhere: wrong in any state


def _defined(data: dict[str, Any]) -> set[str]:
    """Every name `data` (a file's, or a scenario's dump) defines: members, receivables, `as:` in steps."""
    names: set[str] = set()
    for section in _SECTIONS:
        items = data.get(section)
        if isinstance(items, list):
            names |= _names_in(section, items)
    return names


def _names_in(section: str, items: list[Any]) -> set[str]:
    if section != "steps":
        return {item["name"].strip() for item in items if isinstance(item, dict) and isinstance(item.get("name"), str)}
    return {value.strip() for value in _as_values(items) if isinstance(value, str)}


def _as_values(node: Any) -> Iterator[Any]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "as":
                yield value
            else:
                yield from _as_values(value)
    elif isinstance(node, list):
        for value in node:
            yield from _as_values(value)


def _value_at(data: Any, path: YamlPath) -> Any:
    """What the file has at `path`, or the scalar standing for the rest of it (`accept: r1` for `accept[0]`,
    `freeze: f1` for `freeze.fragment`); None where the file has nothing."""
    node = data
    for item in path:
        if isinstance(node, dict):
            if item not in node:
                return None
            node = node[item]
        elif isinstance(node, list):
            if not (isinstance(item, int) and 0 <= item < len(node)):
                return None
            node = node[item]
        else:
            break
    return node
