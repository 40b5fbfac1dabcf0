"""Raw revert data to the matching exception: the only place errors are decoded by selector."""

from __future__ import annotations

from eth_abi.abi import decode
from eth_utils.address import to_checksum_address

from chain_client.contract_errors import ERRORS_BY_SELECTOR
from chain_client.exceptions import ContractError, ContractPanic, ContractRevert, UnknownContractError

KNOWN: dict[str, type[ContractError]] = {
    **ERRORS_BY_SELECTOR,
    ContractPanic.selector: ContractPanic,
    ContractRevert.selector: ContractRevert,
}


def decode_revert(data: bytes | str | None, tx_hash: str | None = None) -> ContractError:
    """Turn raw revert data into the matching exception; unknown selectors give `UnknownContractError`."""
    if isinstance(data, str):
        data = bytes.fromhex(data.removeprefix("0x"))
    if not data:
        return ContractRevert("", tx_hash=tx_hash)
    cls = KNOWN.get("0x" + data[:4].hex())
    if cls is None:
        return UnknownContractError("0x" + data.hex(), tx_hash=tx_hash)
    values = list(decode(list(cls.abi_types), data[4:]))
    for i, abi_type in enumerate(cls.abi_types):
        if abi_type == "address":
            values[i] = to_checksum_address(values[i])
    return cls(*values, tx_hash=tx_hash)
