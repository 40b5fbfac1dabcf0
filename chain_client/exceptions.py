"""The client's exceptions. One root, `ChainError`, which every error of the project derives from (an error that
is also a Python `ValueError` says so with a second base, as web3 does: `class RateError(ChainError,
ValueError)`). Contract refusals are `ContractError` subclasses named exactly like the Solidity custom errors,
generated into `contract_errors.py` with their NatSpec as docstring, and decoded in one place,
`chain_client.reverts.decode_revert`.

A leaf: this module imports nothing of the project, so anything may import it."""

from __future__ import annotations

import re
from typing import Any, ClassVar


class ChainError(Exception):
    """Root of every error this client raises."""


class ContractError(ChainError):
    """A contract refused a call with a custom error. Subclasses carry its fields as attributes."""

    selector: ClassVar[str] = ""
    signature: ClassVar[str] = ""
    abi_types: ClassVar[tuple[str, ...]] = ()
    fields: ClassVar[tuple[str, ...]] = ()
    raised_by: ClassVar[tuple[str, ...]] = ()  # the contracts whose ABI declares it

    def __init__(self, *values: Any, tx_hash: str | None = None) -> None:
        self.raw_values = values
        self.tx_hash = tx_hash
        for field, value in zip(self.fields, values, strict=True):
            setattr(self, field, value)
        super().__init__(str(self))

    @classmethod
    def notice(cls) -> str:
        """The first sentence of the error's docstring (its NatSpec): what the API shows as the message."""
        text = " ".join((cls.__doc__ or cls.__name__).split())
        match = _FIRST_SENTENCE.match(text)
        return match.group(1) if match else text

    def as_dict(self) -> dict[str, Any]:
        return {f: _jsonable(getattr(self, f)) for f in self.fields}

    def __str__(self) -> str:
        parts = ", ".join(f"{f}={getattr(self, f)!r}" for f in self.fields)
        return f"{type(self).__name__}({parts})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), self.raw_values)


class ContractPanic(ContractError):
    """Solidity `Panic(uint256)`: an assertion, overflow or similar bug, never an expected refusal."""

    selector = "0x4e487b71"
    signature = "Panic(uint256)"
    abi_types = ("uint256",)
    fields = ("code",)
    code: int


class ContractRevert(ContractError):
    """Solidity `Error(string)` (a plain `require` message), or a revert with no data at all."""

    selector = "0x08c379a0"
    signature = "Error(string)"
    abi_types = ("string",)
    fields = ("message",)
    message: str


class UnknownContractError(ContractError):
    """A revert whose selector no known ABI declares; `data` is the raw revert data."""

    fields = ("data",)
    data: str


class TransactionFailed(ChainError):
    """A transaction could not be sent or mined (not a contract refusal)."""


class NotADevelopmentChain(ChainError):
    """A development-only helper (moving time, funding) was called against a real network."""


_FIRST_SENTENCE = re.compile(r"(.+?[.!?])(?:\s|$)")


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return value
