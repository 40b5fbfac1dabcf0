"""What happened, read back from the chain's event logs: every movement of value between holders, every
financing, repayment, payment to a holder, recourse claim, buy-back and what the desk passed on from a bought-back
fragment, every freeze, and every cash balance (the financing desk's among them).

The report is built from this, not from what the runner meant to do, so it shows the chain's own record (and a
resumed run reports exactly like an uninterrupted one).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any, cast

from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract
from web3.types import LogReceipt

from chain_client.ids import slot_of
from chain_client.reads import block_times, get_logs
from chain_client.rpc_format import EventAbi

ZERO = "0x" + "00" * 20
BLOCKS_PER_QUERY = 2_000
# (contract, event) -> the _Reader method that applies it
_HANDLERS = {
    ("ReceivableToken", "ReceivableIssued"): "_issued",
    ("ReceivableToken", "Transfer"): "_fragment_transfer",
    ("ReceivableToken", "TransferValue"): "_value_transfer",
    ("ReceivableToken", "RepaymentReceived"): "_repayment",
    ("ReceivableToken", "FragmentRedeemed"): "_redeemed",
    ("ReceivableToken", "ReceivableOverdue"): "_overdue",
    ("ReceivableToken", "Frozen"): "_frozen",
    ("ReceivableToken", "Unfrozen"): "_unfrozen",
    ("FinancingDesk", "Financed"): "_financed",
    ("FinancingDesk", "RecourseClaimed"): "_recourse_claimed",
    ("FinancingDesk", "RecourseSettled"): "_recourse_settled",
    ("FinancingDesk", "RecourseRedeemed"): "_recourse_redeemed",
    ("SettlementToken", "Transfer"): "_cash_transfer",
}


@dataclass(frozen=True)
class Issued:
    slot: int
    debtor: str
    supplier: str
    token_id: int
    face: int
    maturity: int
    time: int


@dataclass(frozen=True)
class Move:
    """`value` of receivable `slot` moved from `sender` to `recipient` (into fragment `token_id`)."""

    slot: int
    sender: str
    recipient: str
    value: int
    token_id: int
    kind: str  # issue, split, transfer, merge; finance when the desk moved it in a financing; buyback into custody
    tx: str


@dataclass(frozen=True)
class Financed:
    slot: int
    token_id: int
    financed_id: int
    seller: str
    financier: str
    value: int
    price: int
    recourse: bool
    time: int


@dataclass(frozen=True)
class Paid:
    """Cash paid out of escrow to the holder of `token_id` (a redemption or a settlement)."""

    slot: int
    token_id: int
    holder: str
    amount: int
    burned: bool
    time: int


@dataclass(frozen=True)
class Freeze:
    """The operator froze fragment `token_id` (held by `holder`, worth `value` then) at `time`, for `reason` (the
    hash the chain keeps); `until` is when it was unfrozen (None: still frozen)."""

    slot: int
    token_id: int
    holder: str
    value: int
    reason: bytes
    time: int
    until: int | None = None


@dataclass(frozen=True)
class Repaid:
    slot: int
    payer: str
    amount: int
    total: int
    time: int


@dataclass(frozen=True)
class Recourse:
    financed_id: int
    seller: str
    financier: str
    amount: int
    time: int


@dataclass(frozen=True)
class Redeemed:
    """The desk passed on what bought-back fragment `financed_id` was paid: `to_seller` and `to_financier`."""

    financed_id: int
    seller: str
    to_seller: int
    financier: str
    to_financier: int
    time: int


@dataclass
class Ledger:
    issued: dict[int, Issued] = field(default_factory=dict)
    moves: list[Move] = field(default_factory=list)
    financings: list[Financed] = field(default_factory=list)
    payouts: list[Paid] = field(default_factory=list)
    repayments: list[Repaid] = field(default_factory=list)
    overdue: dict[int, int] = field(default_factory=dict)  # slot -> time marked
    claims: list[Recourse] = field(default_factory=list)
    settled_claims: list[Recourse] = field(default_factory=list)  # buy-backs: the amount the seller paid
    redemptions: list[Redeemed] = field(default_factory=list)
    freezes: list[Freeze] = field(default_factory=list)
    cash: dict[str, int] = field(default_factory=dict)  # balances replayed from transfers
    minted: int = 0
    logs: int = 0


def read_ledger(w3: Web3, contracts: dict[str, Contract], from_block: int, to_block: int | None = None) -> Ledger:
    return _Reader(w3, contracts).read(from_block, int(w3.eth.block_number) if to_block is None else to_block)


class _Reader:
    def __init__(self, w3: Web3, contracts: dict[str, Contract]) -> None:
        self.w3 = w3
        self.contracts = contracts
        self.events: dict[tuple[str, bytes], tuple[Any, Callable[[dict[str, Any], LogReceipt], None]]] = {}
        for (name, event_name), method in _HANDLERS.items():
            event = EventAbi(cast(dict[str, Any], contracts[name].events[event_name]().abi))
            self.events[str(contracts[name].address), bytes(event.topic)] = (event, getattr(self, method))
        self.times: dict[int, int] = {}
        self.ledger = Ledger()
        self.owner: dict[int, str] = {}
        self.value: dict[int, int] = {}
        self.minted_in_tx: set[int] = set()
        self.financing_txs: set[str] = set()
        self.buyback_txs: set[str] = set()

    def read(self, from_block: int, to_block: int) -> Ledger:
        for log in self._logs(from_block, to_block):
            key = (str(log["address"]), bytes(HexBytes(log["topics"][0]))) if log["topics"] else None
            found = self.events.get(key) if key else None
            if found is None:
                continue
            event, handle = found
            self.ledger.logs += 1
            handle({"args": event.decode(log)}, log)
        ledger = self.ledger
        ledger.moves = [self._kind_of(mv) for mv in ledger.moves]
        return ledger

    def _kind_of(self, mv: Move) -> Move:
        """A split or transfer in a financing is the financing; a transfer in a buy-back is the desk's custody."""
        if mv.tx in self.financing_txs and mv.kind in ("split", "transfer"):
            return Move(mv.slot, mv.sender, mv.recipient, mv.value, mv.token_id, "finance", mv.tx)
        if mv.tx in self.buyback_txs and mv.kind == "transfer":
            return Move(mv.slot, mv.sender, mv.recipient, mv.value, mv.token_id, "buyback", mv.tx)
        return mv

    def _logs(self, a: int, b: int) -> Iterator[LogReceipt]:
        addresses = list(dict.fromkeys(str(self.contracts[name].address) for name, _ in _HANDLERS))
        while a <= b:
            end = min(b, a + BLOCKS_PER_QUERY - 1)
            logs = sorted(
                get_logs(self.w3, {"fromBlock": a, "toBlock": end, "address": addresses}),  # type: ignore[typeddict-item]
                key=lambda lg: (int(lg["blockNumber"]), int(lg["transactionIndex"]), int(lg["logIndex"])),
            )
            # The times of the blocks these logs are in, asked for together rather than one block at a time.
            self.times.update(block_times(self.w3, {int(lg["blockNumber"]) for lg in logs} - self.times.keys()))
            yield from logs
            a = end + 1

    def time(self, log: LogReceipt) -> int:
        number = int(log["blockNumber"])
        if number not in self.times:
            self.times[number] = int(self.w3.eth.get_block(number)["timestamp"])
        return self.times[number]

    @staticmethod
    def tx(log: LogReceipt) -> str:
        return HexBytes(log["transactionHash"]).to_0x_hex()

    # ------------------------------------------------------------------ receivable token

    def _issued(self, e: dict[str, Any], log: LogReceipt) -> None:
        a = e["args"]
        slot, token_id = int(a["slot"]), int(a["tokenId"])
        issued = Issued(
            slot, a["debtor"], a["supplier"], token_id, int(a["faceValue"]), int(a["maturity"]), self.time(log)
        )
        self.ledger.issued[slot] = issued
        self.ledger.moves.append(
            Move(slot, issued.debtor, issued.supplier, issued.face, token_id, "issue", self.tx(log))
        )

    def _fragment_transfer(self, e: dict[str, Any], log: LogReceipt) -> None:
        a = e["args"]
        frm, to, token_id = a["from"], a["to"], int(a["tokenId"])
        if frm == ZERO:
            self.owner[token_id] = to
            self.value[token_id] = 0
            self.minted_in_tx.add(token_id)
        elif to == ZERO:
            self.owner.pop(token_id, None)
        else:
            move = Move(slot_of(token_id), frm, to, self.value.get(token_id, 0), token_id, "transfer", self.tx(log))
            self.ledger.moves.append(move)
            self.owner[token_id] = to

    def _value_transfer(self, e: dict[str, Any], log: LogReceipt) -> None:
        a = e["args"]
        frm, to, value = int(a["_fromTokenId"]), int(a["_toTokenId"]), int(a["_value"])
        if frm:
            self.value[frm] = self.value.get(frm, 0) - value
        if not to:
            return
        new = to in self.minted_in_tx and self.value.get(to, 0) == 0
        self.value[to] = self.value.get(to, 0) + value
        self.minted_in_tx.discard(to)
        if frm:  # (an issue's first value is recorded by ReceivableIssued, which names the debtor)
            kind = "split" if new else "merge"
            move = Move(slot_of(to), self.owner.get(frm, ZERO), self.owner.get(to, ZERO), value, to, kind, self.tx(log))
            self.ledger.moves.append(move)

    def _repayment(self, e: dict[str, Any], log: LogReceipt) -> None:
        a = e["args"]
        repaid = Repaid(int(a["slot"]), a["payer"], int(a["amount"]), int(a["totalRepaid"]), self.time(log))
        self.ledger.repayments.append(repaid)

    def _redeemed(self, e: dict[str, Any], log: LogReceipt) -> None:
        a = e["args"]
        token_id = int(a["tokenId"])
        paid = Paid(slot_of(token_id), token_id, a["holder"], int(a["amount"]), bool(a["burned"]), self.time(log))
        self.ledger.payouts.append(paid)

    def _overdue(self, e: dict[str, Any], log: LogReceipt) -> None:
        self.ledger.overdue[int(e["args"]["slot"])] = self.time(log)

    def _frozen(self, e: dict[str, Any], log: LogReceipt) -> None:
        a = e["args"]
        token_id = int(a["tokenId"])
        freeze = Freeze(
            slot_of(token_id),
            token_id,
            self.owner.get(token_id, ZERO),
            self.value.get(token_id, 0),
            bytes(HexBytes(a["reason"])),
            self.time(log),
        )
        self.ledger.freezes.append(freeze)

    def _unfrozen(self, e: dict[str, Any], log: LogReceipt) -> None:
        token_id = int(e["args"]["tokenId"])
        freezes = self.ledger.freezes
        for i in range(len(freezes) - 1, -1, -1):
            if freezes[i].token_id == token_id and freezes[i].until is None:
                freezes[i] = replace(freezes[i], until=self.time(log))
                break

    # ------------------------------------------------------------------ financing desk

    def _financed(self, e: dict[str, Any], log: LogReceipt) -> None:
        a = e["args"]
        token_id = int(a["tokenId"])
        self.financing_txs.add(self.tx(log))
        self.ledger.financings.append(
            Financed(
                slot_of(token_id),
                token_id,
                int(a["financedTokenId"]),
                a["seller"],
                a["financier"],
                int(a["value"]),
                int(a["price"]),
                bool(a["recourse"]),
                self.time(log),
            )
        )

    def _recourse_claimed(self, e: dict[str, Any], log: LogReceipt) -> None:
        a = e["args"]
        claim = Recourse(int(a["financedTokenId"]), a["seller"], a["financier"], int(a["amount"]), self.time(log))
        self.ledger.claims.append(claim)

    def _recourse_settled(self, e: dict[str, Any], log: LogReceipt) -> None:
        a = e["args"]
        done = Recourse(int(a["financedTokenId"]), a["seller"], a["financier"], int(a["amount"]), self.time(log))
        self.ledger.settled_claims.append(done)
        self.buyback_txs.add(self.tx(log))

    def _recourse_redeemed(self, e: dict[str, Any], log: LogReceipt) -> None:
        a = e["args"]
        redeemed = Redeemed(
            int(a["financedTokenId"]),
            a["seller"],
            int(a["toSeller"]),
            a["financier"],
            int(a["toFinancier"]),
            self.time(log),
        )
        self.ledger.redemptions.append(redeemed)

    # ------------------------------------------------------------------ cash

    def _cash_transfer(self, e: dict[str, Any], log: LogReceipt) -> None:
        a = e["args"]
        frm, to, value = a["from"], a["to"], int(a["value"])
        cash = self.ledger.cash
        if frm == ZERO:
            self.ledger.minted += value
        else:
            cash[frm] = cash.get(frm, 0) - value
        if to == ZERO:
            self.ledger.minted -= value
        else:
            cash[to] = cash.get(to, 0) + value
