"""The client's exceptions. One root, `ChainError`; contract refusals are `ContractError` subclasses named
exactly like the Solidity custom errors (generated into `contract_errors.py`) and decoded in one place,
`decode_revert`."""

from __future__ import annotations

from typing import Any, ClassVar

from eth_abi.abi import decode
from eth_utils.address import to_checksum_address


class ChainError(Exception):
    """Root of every error this client raises."""


class ContractError(ChainError):
    """A contract refused a call with a custom error. Subclasses carry its fields as attributes."""

    selector: ClassVar[str] = ""
    signature: ClassVar[str] = ""
    abi_types: ClassVar[tuple[str, ...]] = ()
    fields: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *values: Any, tx_hash: str | None = None) -> None:
        self.raw_values = values
        self.tx_hash = tx_hash
        for field, value in zip(self.fields, values, strict=True):
            setattr(self, field, value)
        super().__init__(str(self))

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


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return value


def decode_revert(data: bytes | str | None, tx_hash: str | None = None) -> ContractError:
    """Turn raw revert data into the matching exception (the only place errors are decoded)."""
    from chain_client.contract_errors import ERRORS_BY_SELECTOR

    if isinstance(data, str):
        data = bytes.fromhex(data.removeprefix("0x"))
    if not data:
        return ContractRevert("", tx_hash=tx_hash)
    selector = "0x" + data[:4].hex()
    known: dict[str, type[ContractError]] = {
        **ERRORS_BY_SELECTOR,
        ContractPanic.selector: ContractPanic,
        ContractRevert.selector: ContractRevert,
    }
    cls = known.get(selector)
    if cls is None:
        return UnknownContractError("0x" + data.hex(), tx_hash=tx_hash)
    values = list(decode(list(cls.abi_types), data[4:]))
    for i, abi_type in enumerate(cls.abi_types):
        if abi_type == "address":
            values[i] = to_checksum_address(values[i])
    return cls(*values, tx_hash=tx_hash)
