"""Client for `contracts/ReceivableToken.sol`: issue, accept, split, merge, transfer, freeze, and reads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from web3.types import TxReceipt

from chain_client._base import ContractClient, result
from chain_client.constants import (
    GAS_ACCEPT,
    GAS_ISSUE,
    GAS_MERGE,
    GAS_REDEEM,
    GAS_REPAY,
    GAS_SETTLE_BASE,
    GAS_SETTLE_PER_FRAGMENT,
    GAS_SPLIT,
    GAS_SPLIT_BASE,
    GAS_SPLIT_PER_RECIPIENT,
    GAS_TOKEN_SMALL,
    GAS_TOKEN_TRANSFER,
    ZERO_HASH,
)

# The id codec lives in chain_client.ids; these names stay importable from here, their old home.
from chain_client.ids import sequence_of as sequence_of
from chain_client.ids import slot_of_document as slot_of_document
from chain_client.ids import token_id_of as token_id_of
from chain_client.tx import Call, TxResult

_TRANSFER_TOPIC = HexBytes(keccak(text="Transfer(address,address,uint256)"))
_ZERO_TOPIC = HexBytes(b"\0" * 32)


class ReceivableState(IntEnum):
    """Mirrors `IReceivableToken.ReceivableState`."""

    NONE = 0
    PENDING = 1
    ACTIVE = 2
    MATURED = 3
    REPAID = 4
    OVERDUE = 5
    REJECTED = 6
    CANCELLED = 7

    @property
    def word(self) -> str:
        """The state as people and the API write it: "pending", "overdue"."""
        return self.name.lower()


@dataclass(frozen=True)
class Receivable:
    slot: int
    debtor: str
    face_value: int
    issued_at: int
    maturity: int
    document_hash: bytes
    state: ReceivableState
    fragments_created: int
    repaid: int  # cash paid into escrow so far, fen
    redeemed_value: int  # value of fragments paid in full and burned
    paid_out: int  # cash paid from escrow to holders so far, fen

    @property
    def outstanding(self) -> int:
        return self.face_value - self.repaid

    @property
    def escrow(self) -> int:
        """Cash held for this receivable's holders and not yet paid out."""
        return self.repaid - self.paid_out


@dataclass(frozen=True)
class Fragment:
    token_id: int
    owner: str
    value: int
    slot: int
    parent_id: int
    frozen: bool


@dataclass(frozen=True)
class FragmentStatus:
    fragment: Fragment
    claimable: int  # fen it can be paid now
    holder_active: bool  # its holder is an active member (cash can be paid to it)


@dataclass(frozen=True)
class IssueResult(TxResult):
    slot: int
    token_id: int


@dataclass(frozen=True)
class SplitResult(TxResult):
    new_token_ids: tuple[int, ...]


@dataclass(frozen=True)
class PaidResult(TxResult):
    """A redemption or settlement: `paid` fen went out of escrow to `fragments` fragments; `burned` of them were
    paid in full."""

    paid: int
    burned: tuple[int, ...]
    fragments: int = 0


class ReceivableToken(ContractClient):
    # ------------------------------------------------------------------ life cycle

    def issue(
        self, debtor: LocalAccount, supplier: str, face_value: int, maturity: int, document_hash: bytes
    ) -> IssueResult:
        """Confirm a payable of `face_value` fen to `supplier`, due at unix time `maturity`."""
        call = self.issue_call(debtor, supplier, face_value, maturity, document_hash)
        return self.issue_result(self.tx.send_call(call))

    def issue_call(
        self, debtor: LocalAccount, supplier: str, face_value: int, maturity: int, document_hash: bytes
    ) -> Call:
        """`issue` as a `Call`, for `Transactor.transact_many`; `issue_result` reads its receipt."""
        fn = self.contract.functions.issue(supplier, face_value, maturity, document_hash)
        return self.tx.call_of(debtor, fn, GAS_ISSUE)

    def issue_result(self, receipt: TxReceipt) -> IssueResult:
        (event,) = self._events(receipt, "ReceivableIssued")
        return IssueResult(
            **vars(result(receipt)), slot=int(event["args"]["slot"]), token_id=int(event["args"]["tokenId"])
        )

    def accept(self, supplier: LocalAccount, token_id: int) -> TxResult:
        return result(self.tx.send_call(self.accept_call(supplier, token_id)))

    def accept_call(self, supplier: LocalAccount, token_id: int) -> Call:
        """`accept` as a `Call`, for `Transactor.transact_many`."""
        return self.tx.call_of(supplier, self.contract.functions.accept(token_id), GAS_ACCEPT)

    def reject(self, supplier: LocalAccount, token_id: int) -> TxResult:
        return result(self._send(supplier, self.contract.functions.reject(token_id), GAS_ACCEPT))

    def cancel(self, debtor: LocalAccount, slot: int) -> TxResult:
        return result(self._send(debtor, self.contract.functions.cancel(slot), GAS_ACCEPT))

    # ------------------------------------------------------------------ moving value

    def transfer_value(
        self, sender: LocalAccount, from_token_id: int, to: str, value: int, *, gas: int = GAS_SPLIT
    ) -> SplitResult:
        """Move `value` out of `from_token_id` into a new fragment owned by `to`: ERC-3525's value transfer to an
        address, `transferFrom(uint256,address,uint256)`. To pay several holders at once, `split`."""
        fn = self.contract.functions.transferFrom(from_token_id, to, value)
        receipt = self._send(sender, fn, gas)
        return SplitResult(**vars(result(receipt)), new_token_ids=tuple(_minted_ids(receipt, self.address)))

    def split(
        self,
        sender: LocalAccount,
        from_token_id: int,
        payments: Sequence[tuple[str, int]],
        memo: bytes = ZERO_HASH,
        *,
        gas: int | None = None,
    ) -> SplitResult:
        """Pay several suppliers from one fragment in one transaction (`split(uint256,address[],uint256[],bytes32)`);
        `payments` is (holder, value) pairs, each becoming a new fragment."""
        receipt = self.tx.send_call(self.split_call(sender, from_token_id, payments, memo, gas=gas))
        return self.split_result(receipt)

    def split_call(
        self,
        sender: LocalAccount,
        from_token_id: int,
        payments: Sequence[tuple[str, int]],
        memo: bytes = ZERO_HASH,
        *,
        gas: int | None = None,
    ) -> Call:
        """`split` as a `Call`, for `Transactor.transact_many`; `split_result` reads its receipt."""
        to = [p[0] for p in payments]
        values = [p[1] for p in payments]
        limit = gas or GAS_SPLIT_BASE + GAS_SPLIT_PER_RECIPIENT * max(len(payments), 1)
        return self._call_of(sender, "split", (from_token_id, to, values, memo), limit)

    def split_result(self, receipt: TxReceipt) -> SplitResult:
        return SplitResult(**vars(result(receipt)), new_token_ids=tuple(_minted_ids(receipt, self.address)))

    def merge(self, sender: LocalAccount, from_token_id: int, to_token_id: int, value: int) -> TxResult:
        """Move `value` from one fragment into another of the same receivable."""
        fn = self.contract.functions.transferFrom(from_token_id, to_token_id, value)
        return result(self._send(sender, fn, GAS_MERGE))

    def transfer(
        self, sender: LocalAccount, to: str, token_id: int, *, from_: str | None = None, safe: bool = False
    ) -> TxResult:
        """Hand over a whole fragment (ERC-721 transferFrom, or safeTransferFrom when `safe`)."""
        owner = from_ or sender.address
        fns = self.contract.functions
        fn = fns.safeTransferFrom(owner, to, token_id) if safe else fns.transferFrom(owner, to, token_id)
        return result(self._send(sender, fn, GAS_TOKEN_TRANSFER))

    def approve_value(self, owner: LocalAccount, token_id: int, operator: str, value: int) -> TxResult:
        """ERC-3525 value allowance: `operator` may move up to `value` out of `token_id`."""
        fn = self.contract.functions.approve(token_id, operator, value)
        return result(self._send(owner, fn, GAS_TOKEN_SMALL))

    def approve(self, owner: LocalAccount, operator: str, token_id: int) -> TxResult:
        """ERC-721 approval of one whole fragment."""
        fn = self.contract.functions.approve(operator, token_id)
        return result(self._send(owner, fn, GAS_TOKEN_SMALL))

    def set_approval_for_all(self, owner: LocalAccount, operator: str, approved: bool) -> TxResult:
        return result(self.tx.send_call(self.set_approval_for_all_call(owner, operator, approved)))

    def set_approval_for_all_call(self, owner: LocalAccount, operator: str, approved: bool) -> Call:
        """`set_approval_for_all` as a `Call`, for `Transactor.transact_many`."""
        return self._call_of(owner, "setApprovalForAll", (operator, approved), GAS_TOKEN_SMALL)

    # ------------------------------------------------------------------ repayment

    def repay(self, payer: LocalAccount, slot: int, amount: int) -> TxResult:
        """Pay `amount` fen into escrow for `slot` (needs the payer's cash allowance to this contract)."""
        return result(self.tx.send_call(self.repay_call(payer, slot, amount)))

    def repay_call(self, payer: LocalAccount, slot: int, amount: int) -> Call:
        """`repay` as a `Call`, for `Transactor.transact_many`."""
        return self._call_of(payer, "repay", (slot, amount), GAS_REPAY)

    def redeem(self, holder: LocalAccount, token_id: int) -> PaidResult:
        """Pull what `token_id` is owed now (holder or approved operator)."""
        receipt = self._send(holder, self.contract.functions.redeem(token_id), GAS_REDEEM)
        return self._paid_result(receipt)

    def settle(
        self, keeper: LocalAccount, slot: int, token_ids: Sequence[int], *, gas: int | None = None
    ) -> PaidResult:
        """Push what each listed fragment of `slot` is owed to its holder (anyone may call)."""
        return self.settle_result(self.tx.send_call(self.settle_call(keeper, slot, token_ids, gas=gas)))

    def settle_call(self, keeper: LocalAccount, slot: int, token_ids: Sequence[int], *, gas: int | None = None) -> Call:
        """`settle` as a `Call`, for `Transactor.transact_many`; `settle_result` reads its receipt."""
        limit = gas or GAS_SETTLE_BASE + GAS_SETTLE_PER_FRAGMENT * max(len(token_ids), 1)
        return self._call_of(keeper, "settle", (slot, list(token_ids)), limit)

    def settle_result(self, receipt: TxReceipt) -> PaidResult:
        return self._paid_result(receipt)

    def mark_overdue(self, caller: LocalAccount, slot: int) -> TxResult:
        return result(self.tx.send_call(self.mark_overdue_call(caller, slot)))

    def mark_overdue_call(self, caller: LocalAccount, slot: int) -> Call:
        """`mark_overdue` as a `Call`, for `Transactor.transact_many`."""
        return self.tx.call_of(caller, self.contract.functions.markOverdue(slot), GAS_TOKEN_SMALL)

    def claimable(self, token_id: int) -> int:
        return int(self._call(self.contract.functions.claimable(token_id)))

    def _paid_result(self, receipt: TxReceipt) -> PaidResult:
        events = self._event_args(receipt, "FragmentRedeemed")  # a settlement page emits a hundred
        paid = sum(int(e["amount"]) for e in events)
        burned = tuple(int(e["tokenId"]) for e in events if e["burned"])
        return PaidResult(**vars(result(receipt)), paid=paid, burned=burned, fragments=len(events))

    # ------------------------------------------------------------------ operator

    def set_credit_line(self, operator: LocalAccount, debtor: str, limit: int) -> TxResult:
        """Set a core enterprise's issuance limit (授信额度), in fen."""
        return result(self.tx.send_call(self.set_credit_line_call(operator, debtor, limit)))

    def set_credit_line_call(self, operator: LocalAccount, debtor: str, limit: int) -> Call:
        """`set_credit_line` as a `Call`, for `Transactor.transact_many`."""
        return self._call_of(operator, "setCreditLine", (debtor, limit), GAS_TOKEN_SMALL)

    def credit_line(self, debtor: str) -> tuple[int, int]:
        """(limit, used) in fen."""
        limit, used = self._call(self.contract.functions.creditLine(debtor))
        return int(limit), int(used)

    def set_grace_period(self, operator: LocalAccount, seconds: int) -> TxResult:
        return result(self._send(operator, self.contract.functions.setGracePeriod(seconds), GAS_TOKEN_SMALL))

    def grace_period(self) -> int:
        return int(self._call(self.contract.functions.gracePeriod()))

    def freeze(self, operator: LocalAccount, token_id: int, reason: bytes = ZERO_HASH) -> TxResult:
        return result(self._send(operator, self.contract.functions.freeze(token_id, reason), GAS_TOKEN_SMALL))

    def unfreeze(self, operator: LocalAccount, token_id: int) -> TxResult:
        return result(self._send(operator, self.contract.functions.unfreeze(token_id), GAS_TOKEN_SMALL))

    def set_max_tenor(self, operator: LocalAccount, seconds: int) -> TxResult:
        return result(self._send(operator, self.contract.functions.setMaxTenor(seconds), GAS_TOKEN_SMALL))

    # ------------------------------------------------------------------ reads

    def receivable(self, slot: int) -> Receivable:
        r = self._call(self.contract.functions.receivable(slot))
        return Receivable(
            slot,
            r[0],
            int(r[1]),
            int(r[2]),
            int(r[3]),
            bytes(r[4]),
            ReceivableState(r[5]),
            int(r[6]),
            int(r[7]),
            int(r[8]),
            int(r[9]),
        )

    def fragment(self, token_id: int) -> Fragment:
        f = self._call(self.contract.functions.fragment(token_id))
        return Fragment(token_id, f[0], int(f[1]), int(f[2]), int(f[3]), bool(f[4]))

    def balance_of(self, token_id: int) -> int:
        """The value of fragment `token_id`, in fen (ERC-3525 balanceOf(uint256))."""
        return int(self._call(self.contract.functions.balanceOf(token_id)))

    def fragment_count(self, owner: str) -> int:
        """How many live fragments `owner` holds (ERC-721 balanceOf(address))."""
        return int(self._call(self.contract.functions.balanceOf(owner)))

    def owner_of(self, token_id: int) -> str:
        return str(self._call(self.contract.functions.ownerOf(token_id)))

    def slot_of(self, token_id: int) -> int:
        return int(self._call(self.contract.functions.slotOf(token_id)))

    def parent_of(self, token_id: int) -> int:
        return int(self._call(self.contract.functions.parentOf(token_id)))

    def allowance(self, token_id: int, operator: str) -> int:
        return int(self._call(self.contract.functions.allowance(token_id, operator)))

    def get_approved(self, token_id: int) -> str:
        return str(self._call(self.contract.functions.getApproved(token_id)))

    def is_frozen(self, token_id: int) -> bool:
        return bool(self._call(self.contract.functions.isFrozen(token_id)))

    def max_tenor(self) -> int:
        return int(self._call(self.contract.functions.maxTenor()))

    def fragment_statuses(self, slot: int, *, page: int = 500) -> list[FragmentStatus]:
        """Every live fragment of a receivable with what it can claim now, read in pages of `page`."""
        out: list[FragmentStatus] = []
        start = 1
        while True:
            infos, claimables, active = self._read("fragmentsOf", (slot, start, page))
            for offset, (f, claim, holder_active) in enumerate(zip(infos, claimables, active, strict=True)):
                if int(f[0], 16) == 0:
                    continue  # burned
                token_id = token_id_of(slot, start + offset)
                fragment = Fragment(token_id, f[0], int(f[1]), int(f[2]), int(f[3]), bool(f[4]))
                out.append(FragmentStatus(fragment, int(claim), bool(holder_active)))
            if len(infos) < page:
                return out
            start += page

    def fragments_of(self, slot: int) -> list[Fragment]:
        """Every live fragment of a receivable, in sequence order (an index answers this faster)."""
        return [s.fragment for s in self.fragment_statuses(slot)]


def _minted_ids(receipt: TxReceipt, address: str) -> list[int]:
    """Ids of fragments minted in `receipt` (ERC-721 Transfer from the zero address), in log order."""
    ids = []
    for log in receipt["logs"]:
        topics = log["topics"]
        if (
            log["address"] == address
            and len(topics) == 4
            and HexBytes(topics[0]) == _TRANSFER_TOPIC
            and HexBytes(topics[1]) == _ZERO_TOPIC
        ):
            ids.append(int.from_bytes(HexBytes(topics[3]), "big"))
    return ids
