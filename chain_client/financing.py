"""Client for `contracts/FinancingDesk.sol`: signed financing requests and their atomic funding."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from web3.types import TxReceipt

from chain_client._base import ContractClient, result
from chain_client.constants import (
    GAS_DESK_SMALL,
    GAS_FINANCE,
    GAS_REDEEM_RECOURSE,
    GAS_RELEASE_PER_TOKEN,
    GAS_SETTLE_RECOURSE,
    ZERO_ADDRESS,
)
from chain_client.tx import Call, TxResult

FINANCING_REQUEST_TYPES = {
    "FinancingRequest": [
        {"name": "tokenId", "type": "uint256"},
        {"name": "value", "type": "uint256"},
        {"name": "price", "type": "uint256"},
        {"name": "financier", "type": "address"},
        {"name": "recourse", "type": "bool"},
        {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint256"},
    ]
}


@dataclass(frozen=True)
class FinancingRequest:
    """Mirrors `IFinancingDesk.FinancingRequest`: sell `value` fen of `token_id` for `price` fen."""

    token_id: int
    value: int
    price: int
    financier: str = ZERO_ADDRESS  # zero: any active financier
    recourse: bool = False
    nonce: int = 0
    deadline: int = 0

    def as_message(self) -> dict[str, Any]:
        return {
            "tokenId": self.token_id,
            "value": self.value,
            "price": self.price,
            "financier": self.financier,
            "recourse": self.recourse,
            "nonce": self.nonce,
            "deadline": self.deadline,
        }

    def as_tuple(self) -> tuple[int, int, int, str, bool, int, int]:
        return (self.token_id, self.value, self.price, self.financier, self.recourse, self.nonce, self.deadline)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class FinanceResult(TxResult):
    request_hash: str
    financed_token_id: int
    seller: str
    financier: str
    value: int
    price: int
    recourse: bool


@dataclass(frozen=True)
class FinancingRecord:
    """Mirrors `IFinancingDesk.Financing`: the open financing of one fragment."""

    financier: str
    value: int  # fen still on the financier's books: shrinks on resale and release
    recourse: bool
    released: bool
    seller: str
    recourse_claim: int
    recourse_settled: bool


@dataclass(frozen=True)
class Custody:
    """Mirrors `IFinancingDesk.Custody`: a fragment bought back under recourse, held by the desk."""

    fragment_value: int
    paid_before: int
    seller_share: int
    distributed: int
    paid_to_seller: int


@dataclass(frozen=True)
class RecourseRedeemed(TxResult):
    to_seller: int
    to_financier: int


class FinancingDesk(ContractClient):
    def domain(self) -> dict[str, Any]:
        return {
            "name": "SCF FinancingDesk",
            "version": "1",
            "chainId": self.tx.chain_id,
            "verifyingContract": self.address,
        }

    def sign(self, holder: LocalAccount, request: FinancingRequest) -> bytes:
        """The holder's EIP-712 signature of `request` (off chain, no gas)."""
        signed = holder.sign_typed_data(self.domain(), FINANCING_REQUEST_TYPES, request.as_message())
        return bytes(signed.signature)

    def request_hash(self, request: FinancingRequest) -> str:
        digest = self._call(self.contract.functions.requestHash(request.as_tuple()))
        return HexBytes(digest).to_0x_hex()

    def finance(self, financier: LocalAccount, request: FinancingRequest, signature: bytes) -> FinanceResult:
        """Fund `request`: cash from `financier` to the holder, value to `financier`, in one transaction."""
        return self.finance_result(self.tx.send_call(self.finance_call(financier, request, signature)))

    def finance_call(self, financier: LocalAccount, request: FinancingRequest, signature: bytes) -> Call:
        """`finance` as a `Call`, for `Transactor.transact_many`; `finance_result` reads its receipt."""
        fn = self.contract.functions.finance(request.as_tuple(), signature)
        return self.tx.call_of(financier, fn, GAS_FINANCE)

    def finance_result(self, receipt: TxReceipt) -> FinanceResult:
        (event,) = self._events(receipt, "Financed")
        a = event["args"]
        return FinanceResult(
            **vars(result(receipt)),
            request_hash=HexBytes(a["requestHash"]).to_0x_hex(),
            financed_token_id=int(a["financedTokenId"]),
            seller=str(a["seller"]),
            financier=str(a["financier"]),
            value=int(a["value"]),
            price=int(a["price"]),
            recourse=bool(a["recourse"]),
        )

    def cancel(self, holder: LocalAccount, nonce: int) -> TxResult:
        return result(self._send(holder, self.contract.functions.cancel(nonce), GAS_DESK_SMALL))

    def set_exposure_limit(self, financier: LocalAccount, debtor: str, limit: int) -> TxResult:
        return result(self.tx.send_call(self.set_exposure_limit_call(financier, debtor, limit)))

    def set_exposure_limit_call(self, financier: LocalAccount, debtor: str, limit: int) -> Call:
        """`set_exposure_limit` as a `Call`, for `Transactor.transact_many`."""
        return self._call_of(financier, "setExposureLimit", (debtor, limit), GAS_DESK_SMALL)

    def release_exposure(self, caller: LocalAccount, financed_token_ids: list[int]) -> TxResult:
        fn = self.contract.functions.releaseExposure(financed_token_ids)
        return result(self._send(caller, fn, GAS_DESK_SMALL + GAS_RELEASE_PER_TOKEN * len(financed_token_ids)))

    def claim_recourse(self, financier: LocalAccount, financed_token_id: int) -> TxResult:
        return result(self.tx.send_call(self.claim_recourse_call(financier, financed_token_id)))

    def claim_recourse_call(self, financier: LocalAccount, financed_token_id: int) -> Call:
        """`claim_recourse` as a `Call`, for `Transactor.transact_many`; `recourse_claimed` reads its receipt."""
        return self.tx.call_of(financier, self.contract.functions.claimRecourse(financed_token_id), GAS_DESK_SMALL)

    def recourse_claimed(self, receipt: TxReceipt) -> int:
        """The amount a `claimRecourse` transaction claimed (its `RecourseClaimed` event)."""
        (event,) = self._events(receipt, "RecourseClaimed")
        return int(event["args"]["amount"])

    def settle_recourse(self, seller: LocalAccount, financed_token_id: int) -> TxResult:
        """The seller buys the fragment back: the desk takes it into custody (see `redeem_recourse`)."""
        fn = self.contract.functions.settleRecourse(financed_token_id)
        return result(self._send(seller, fn, GAS_SETTLE_RECOURSE))

    def redeem_recourse(self, caller: LocalAccount, financed_token_id: int) -> RecourseRedeemed:
        """Pays on later repayments of a bought-back fragment: the seller's share and the financier's."""
        receipt = self._send(caller, self.contract.functions.redeemRecourse(financed_token_id), GAS_REDEEM_RECOURSE)
        (event,) = self._events(receipt, "RecourseRedeemed")
        a = event["args"]
        return RecourseRedeemed(
            **vars(result(receipt)), to_seller=int(a["toSeller"]), to_financier=int(a["toFinancier"])
        )

    def nonce_used(self, signer: str, nonce: int) -> bool:
        return bool(self._call(self.contract.functions.nonceUsed(signer, nonce)))

    def exposure(self, financier: str, debtor: str) -> tuple[int, int]:
        limit, used = self._call(self.contract.functions.exposure(financier, debtor))
        return int(limit), int(used)

    def financing(self, financed_token_id: int) -> FinancingRecord:
        f = self._call(self.contract.functions.financing(financed_token_id))
        return FinancingRecord(str(f[0]), int(f[1]), bool(f[2]), bool(f[3]), str(f[4]), int(f[5]), bool(f[6]))

    def custody(self, financed_token_id: int) -> Custody:
        c = self._call(self.contract.functions.custody(financed_token_id))
        return Custody(*(int(x) for x in c))
