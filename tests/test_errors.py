"""The error vocabulary: `chain_client/exceptions.py` is a leaf, every error derives from the one root, and each
generated contract error says in its docstring what the contract's NatSpec says."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path
from types import ModuleType

import pytest

from chain_client import contract_errors, exceptions
from chain_client.build.compiler import CONTRACTS, ROOT
from chain_client.build.natspec import LIBRARIES, error_natspec
from chain_client.exceptions import ChainError, ContractError, ContractPanic, ContractRevert, UnknownContractError
from chain_client.rates import RateError
from chain_client.reverts import decode_revert

EXCEPTIONS = Path(exceptions.__file__)
PROJECT = ("chain_client", "api", "scripts", "tests")


def _project_imports(tree: ast.AST) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.ImportFrom):
            names = ["." * node.level + (node.module or "")]  # a relative import is always of the project
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found |= {n for n in names if n.startswith(".") or n.split(".")[0] in PROJECT}
    return found


def test_exceptions_imports_nothing_of_the_project() -> None:
    tree = ast.parse(EXCEPTIONS.read_text())
    assert _project_imports(tree) == set(), "chain_client/exceptions.py must be a leaf"


def _classes(module: ModuleType) -> list[type]:
    return [c for _, c in inspect.getmembers(module, inspect.isclass) if c.__module__ == module.__name__]


@pytest.mark.parametrize("module", [exceptions, contract_errors], ids=["exceptions", "contract_errors"])
def test_every_error_derives_from_the_root(module: ModuleType) -> None:
    classes = _classes(module)
    assert classes
    for cls in classes:
        assert issubclass(cls, ChainError), cls


def test_generated_errors_are_contract_errors_and_registered_by_selector() -> None:
    classes = _classes(contract_errors)
    assert all(issubclass(cls, ContractError) for cls in classes)
    assert sorted(contract_errors.ERRORS_BY_SELECTOR.values(), key=lambda c: c.__name__) == sorted(
        classes, key=lambda c: c.__name__
    )


def test_an_error_that_is_also_a_value_error_says_so_with_a_second_base() -> None:
    assert issubclass(RateError, ChainError)
    assert issubclass(RateError, ValueError)


_ERROR = re.compile(r"^\s*error\s+(\w+)\s*\(")


def _natspec_in_contracts() -> dict[str, str]:
    """The `///` comment above each `error Foo(...)` in contracts/, read independently of the generator."""
    found: dict[str, str] = {}
    for path in sorted(CONTRACTS.rglob("*.sol")):
        lines = path.read_text().splitlines()
        for i, line in enumerate(lines):
            match = _ERROR.match(line)
            if not match:
                continue
            comment: list[str] = []
            j = i - 1
            while j >= 0 and lines[j].strip().startswith("///"):
                comment.insert(0, lines[j].strip()[3:].strip())
                j -= 1
            text = " ".join(comment).removeprefix("@notice ").strip()
            if text:
                found.setdefault(match.group(1), text)
    return found


def _doc(cls: type) -> str:
    return " ".join((cls.__doc__ or "").split())


def test_each_generated_error_docstring_is_its_natspec() -> None:
    ours = _natspec_in_contracts()
    assert len(ours) > 50
    for cls in _classes(contract_errors):
        if cls.__name__ in ours:
            assert _doc(cls) == ours[cls.__name__], cls.__name__


@pytest.mark.skipif(not LIBRARIES[0].exists(), reason="the libraries' sources come with `npm ci`")
def test_the_libraries_errors_carry_their_natspec_too() -> None:
    notes = error_natspec()
    # OpenZeppelin documents its errors with `@dev` only: that text is taken when there is no `@notice`.
    assert sum(text.startswith("Indicates a failure with") for text in notes.values()) >= 5
    for cls in _classes(contract_errors):
        if cls.__name__ in notes:
            assert _doc(cls) == notes[cls.__name__], cls.__name__
        else:  # OpenZeppelin declares a few without any comment
            assert _doc(cls) == f"`{cls.signature}` (declared without NatSpec)."  # type: ignore[attr-defined]


def test_every_error_our_contracts_declare_has_natspec() -> None:
    ours = _natspec_in_contracts()
    for cls in _classes(contract_errors):
        source = ROOT / "contracts"
        declared = any(
            re.search(rf"^\s*error\s+{cls.__name__}\s*\(", p.read_text(), re.M) for p in source.rglob("*.sol")
        )
        if declared:
            assert cls.__name__ in ours, f"error {cls.__name__} has no NatSpec in contracts/"


def test_notice_is_the_first_sentence_of_the_natspec() -> None:
    class TwoSentences(ContractError):
        """No fragment `tokenId` here. For example,
        it was burned."""

    assert TwoSentences.notice() == "No fragment `tokenId` here."
    assert contract_errors.NonexistentToken.notice() == (
        "No live fragment has id `tokenId` (never created, or burned)."
    )
    assert ContractPanic.notice().startswith("Solidity `Panic(uint256)`")


def test_decode_revert_lives_beside_the_generated_errors() -> None:
    error = contract_errors.NonexistentToken(7)
    data = bytes.fromhex(error.selector[2:]) + (7).to_bytes(32, "big")
    decoded = decode_revert(data, tx_hash="0xab")
    assert isinstance(decoded, contract_errors.NonexistentToken)
    assert decoded.token_id == 7
    assert decoded.tx_hash == "0xab"
    assert isinstance(decode_revert(b""), ContractRevert)
    assert isinstance(decode_revert("0xdeadbeef"), UnknownContractError)
