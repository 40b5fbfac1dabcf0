"""The NatSpec text of every custom error, read from the Solidity sources.

The text is what the `///` or `/** */` comment above `error Foo(...)` says under `@notice` (or, for the
libraries' errors, which OpenZeppelin documents with `@dev` only, under `@dev`); `@param` and the other tags
are left out, and the lines are joined with single spaces. The generated `contract_errors.py` makes it each
class's docstring, and the API shows its first sentence as the refusal's message.
"""

from __future__ import annotations

import re
from pathlib import Path

from chain_client.build.compiler import CONTRACTS, ROOT

# The libraries whose errors our contracts can raise (the compiler's remappings point here).
LIBRARIES = (ROOT / "node_modules" / "@openzeppelin" / "contracts",)

_ERROR = re.compile(r"^\s*error\s+(\w+)\s*\(")
_TAG = re.compile(r"^@(\w+)(?::\w+)?\s*(.*)$")


def _comment_above(lines: list[str], index: int) -> list[str]:
    """The lines of the NatSpec comment that ends right above line `index`, without comment markers."""
    j = index - 1
    if j >= 0 and lines[j].strip().startswith("///"):
        found: list[str] = []
        while j >= 0 and lines[j].strip().startswith("///"):
            found.insert(0, lines[j].strip()[3:].strip())
            j -= 1
        return found
    if j >= 0 and lines[j].strip().endswith("*/"):
        block: list[str] = []
        while j >= 0:
            text = lines[j].strip()
            block.insert(0, text)
            if text.startswith("/**"):
                break
            j -= 1
        else:
            return []
        body = "\n".join(block).removeprefix("/**").removesuffix("*/")
        return [line.strip().removeprefix("*").strip() for line in body.splitlines()]
    return []


def _text(comment: list[str]) -> str:
    """The `@notice` text of a comment (an untagged comment is a notice), else its `@dev` text."""
    tags: dict[str, list[str]] = {}
    current = "notice"
    for line in comment:
        match = _TAG.match(line)
        if match:
            current = match.group(1)
            line = match.group(2)
        if line:
            tags.setdefault(current, []).append(line)
    return " ".join(tags.get("notice") or tags.get("dev") or [])


def natspec_of_file(path: Path) -> dict[str, str]:
    lines = path.read_text().splitlines()
    found: dict[str, str] = {}
    for i, line in enumerate(lines):
        match = _ERROR.match(line)
        if match:
            text = _text(_comment_above(lines, i))
            if text:
                found.setdefault(match.group(1), text)
    return found


def error_natspec() -> dict[str, str]:
    """Error name -> NatSpec text: our contracts first, then the libraries (sources in sorted order)."""
    found: dict[str, str] = {}
    for root in (CONTRACTS, *LIBRARIES):
        for path in sorted(root.rglob("*.sol")):
            for name, text in natspec_of_file(path).items():
                found.setdefault(name, text)
    return found
