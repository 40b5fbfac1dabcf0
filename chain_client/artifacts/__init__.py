"""Compiled contracts (ABI and bytecode), committed so that running the client needs no compiler.
Rebuilt by `python -m chain_client.build` when the sources change."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

_HERE = Path(__file__).parent


@cache
def load_artifact(name: str) -> dict[str, Any]:
    """The artifact of contract `name`: at least `abi` and `bytecode`."""
    path = _HERE / f"{name}.json"
    if not path.exists():
        raise FileNotFoundError(f"no artifact for contract {name!r} in {_HERE}")
    data: dict[str, Any] = json.loads(path.read_text())
    return data
