"""POST /transactions: relay a transaction a member signed itself (its key never reaches the API).

The API checks, before anything is sent: the raw bytes decode as a signed transaction; its sender (recovered
from the signature) is the caller's member; its target is one of the platform's four contracts (no contract
creation, no plain payments); and a dry run on the latest state does not revert (a revert is the contract's
named error, 409, and nothing is sent). Then it sends the bytes as they are and waits for the receipt.
Sending the same bytes twice can never execute twice: the nonce is inside the signature.
"""

from __future__ import annotations

from typing import Any, cast

import rlp  # type: ignore[import-untyped]  # (eth-account's own dependency)
from eth_account import Account
from eth_account.typed_transactions.typed_transaction import TypedTransaction
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from fastapi import APIRouter
from hexbytes import HexBytes
from pydantic import BaseModel, ConfigDict, Field
from web3.contract.contract import ContractFunction
from web3.types import TxParams

from api.deps import ActiveUser, ContextDep
from api.errors import ApiProblem
from api.routes.problems import AUTH, CONFLICT
from api.users import Duty
from chain_client.client import ScfClient

router = APIRouter(prefix="/transactions", tags=["transactions"], responses=AUTH)

MAX_RAW = 6 * 1024  # bytes of a signed transaction: the largest platform call (a 50-way split) is under 4 KiB


class TransactionCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"raw": "0x02f8b1827a6980843b9aca00847735940083030d4094…"}]},
    )

    raw: str = Field(
        pattern=r"^0x([0-9a-fA-F]{2})+$",
        max_length=2 + 2 * MAX_RAW,
        description="the signed transaction (legacy or EIP-1559), 0x-hex, as eth_account's raw_transaction",
    )


class TransactionPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "tx_hash": "0x" + "ab" * 32,
                    "sender": "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
                    "to": "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
                    "contract": "receivables",
                    "block_number": 42,
                    "gas_used": 61234,
                }
            ]
        }
    )

    tx_hash: str
    sender: str
    to: str
    contract: str = Field(description="membership, cash, receivables or financing")
    block_number: int
    gas_used: int


def platform_contracts(scf: ScfClient) -> dict[str, str]:
    return {
        scf.membership.address: "membership",
        scf.cash.address: "cash",
        scf.receivables.address: "receivables",
        scf.financing.address: "financing",
    }


def decode(raw: bytes) -> tuple[str, str | None, dict[str, Any]]:
    """(sender, target or None, call fields) of a signed transaction; ApiProblem if it is not one."""
    try:
        sender = Account.recover_transaction(raw)
        if raw[0] < 0x7F:  # a typed transaction (EIP-2718)
            fields = TypedTransaction.from_bytes(HexBytes(raw)).as_dict()
            to_raw, data, value = fields.get("to"), fields.get("data", b""), int(fields.get("value", 0))
        else:
            _nonce, _gas_price, _gas, to_raw, value_raw, data, *_ = rlp.decode(raw)
            value = int.from_bytes(value_raw, "big")
    except Exception:
        # Whatever the bytes are, they are not a transaction signed by the caller's member.
        raise ApiProblem(
            403, "UnverifiableTransaction", {"detail": "not a signed transaction whose sender can be recovered"}
        ) from None
    to = to_checksum_address(to_raw) if to_raw else None
    return sender, to, {"from": sender, "to": to, "data": HexBytes(data), "value": value}


class _DryRun:
    """Duck-types the `.call()` of a ContractFunction, so the client's `tx.call` decodes a revert for it."""

    def __init__(self, scf: ScfClient, params: dict[str, Any]) -> None:
        self.scf, self.params = scf, params

    def call(self) -> Any:
        return self.scf.w3.eth.call(cast(TxParams, self.params), "latest")


@router.post("", status_code=201, responses=CONFLICT, summary="Relay a transaction the member signed")
def relay(context: ContextDep, user: ActiveUser, body: TransactionCreate) -> TransactionPublic:
    """Relay a transaction the caller's member signed itself: its sender must be the caller's member and its
    target one of the platform's contracts (403 `SenderNotMember`, `TargetNotPlatform`,
    `UnverifiableTransaction`); a call the contract would refuse is its named error (409) and is not sent.
    Viewers may not relay. No maker-checker here: the member's own signer is its control."""
    if user.duty is Duty.VIEWER:
        raise ApiProblem(403, "DutyNotAllowed", {"duty": user.duty.value, "allowed": ["admin", "maker", "checker"]})
    raw = bytes.fromhex(body.raw[2:])
    sender, to, params = decode(raw)
    member = user.member.address
    if sender != member:
        raise ApiProblem(403, "SenderNotMember", {"sender": sender, "member": member})
    scf = context.scf
    contracts = platform_contracts(scf)
    if to is None or to not in contracts:
        raise ApiProblem(403, "TargetNotPlatform", {"to": to, "allowed": sorted(contracts)})
    scf.tx.call(cast(ContractFunction, _DryRun(scf, params)))  # a revert raises the contract's named error
    tx_hash = HexBytes(keccak(raw))
    with context.chain_lock:
        try:
            scf.w3.eth.send_raw_transaction(raw)
        except OSError:
            raise  # the node unreachable: 502
        except Exception as exc:
            # A nonce already used, a fee too low, a chain id of another chain: the node's own words.
            detail = (str(exc).splitlines() or [type(exc).__name__])[0][:200]
            raise ApiProblem(409, "TransactionRefused", {"tx_hash": tx_hash.to_0x_hex(), "detail": detail}) from None
        finally:
            scf.tx.nonces.forget(sender)  # the API's own nonce cache must not reuse this nonce
        receipt = scf.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=scf.tx.receipt_timeout)
    if receipt["status"] != 1:
        raise ApiProblem(409, "TransactionReverted", {"tx_hash": tx_hash.to_0x_hex()})
    return TransactionPublic(
        tx_hash=tx_hash.to_0x_hex(),
        sender=sender,
        to=to,
        contract=contracts[to],
        block_number=int(receipt["blockNumber"]),
        gas_used=int(receipt["gasUsed"]),
    )
