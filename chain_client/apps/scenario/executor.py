"""Sending one planned operation: the client call it stands for, and (when resuming) the chain read that tells
whether it happened already.

Each prediction the plan made (a new fragment's token id, the number of fragments a settlement pays) is compared
with what the chain did; a difference means something else is moving value on this deployment, and the run
stops rather than report numbers that are not its own.
"""

from __future__ import annotations

from collections.abc import Callable

from eth_utils.crypto import keccak
from web3 import Web3

from chain_client.apps.scenario import ops
from chain_client.apps.scenario.accounts import Accounts
from chain_client.client import ScfClient
from chain_client.constants import ZERO_ADDRESS
from chain_client.devchain import advance_time, now
from chain_client.exceptions import ChainError, ContractError
from chain_client.financing import FinancingRequest
from chain_client.ids import sequence_of, slot_of
from chain_client.membership import Role
from chain_client.pricing import SECONDS_PER_DAY
from chain_client.receivables import ReceivableState
from chain_client.repayment import repay_and_settle
from chain_client.tx import Call

UNLIMITED_ALLOWANCE = 2**256 - 1
WINDOW = 1024  # transactions sent before their receipts are collected (a block holds at most half its gas limit)
REQUEST_LIFETIME = SECONDS_PER_DAY


class Diverged(ChainError):
    """The chain did something other than the plan predicted."""


class Pipeline:
    """A window of operations sent together (`Transactor.transact_many`): signed with known nonces, sent without
    waiting, their receipts collected together and the plan's predictions checked after.

    Where the node keeps a window's order (`Transactor.keeps_order`: anvil mining on demand) a window takes every
    operation whose transactions can be written before the previous ones are mined: funding, admissions, cash in,
    credit lines, exposure limits, approvals, confirmations, splits, financings, repayments and settlements (the
    plan knows which fragments each settlement pays), overdue marks and recourse claims. Elsewhere only one
    sender's nonce order is sure, so a window holds funding, admissions, cash in, approvals and splits, never a
    split of a fragment made in the same window, nor splits of one receivable by two holders (its fragments are
    numbered in the order the splits are mined).
    Either way no member sends in the window that funds it: a node checks the sender's balance when it takes a
    transaction, before the funding is mined."""

    UNORDERED = (ops.FundGas, ops.Admit, ops.Mint, ops.ApproveDeskValue, ops.Split)

    def __init__(self, executor: Executor) -> None:
        self.executor = executor
        self.ordered = executor.scf.tx.keeps_order
        self.items: list[tuple[ops.Op, list[Call]]] = []
        self.calls = 0  # transactions in the window
        self._funded: set[str] = set()  # members funded in the window
        self._made: set[int] = set()  # fragments minted in the window
        self._splitter: dict[int, str] = {}  # receivable (slot) -> the holder splitting it in the window

    def calls_of(self, op: ops.Op) -> list[Call] | None:
        """`op` as transactions this window can take, or None: send it alone (after sending the window)."""
        if ops.sender_of(op) in self._funded:
            return None
        if not self.ordered:
            if not isinstance(op, self.UNORDERED):
                return None
            if isinstance(op, ops.Split) and (
                op.token_id in self._made or self._splitter.get(slot_of(op.token_id), op.holder) != op.holder
            ):
                return None
        return self.executor.calls_of(op)

    def add(self, op: ops.Op, calls: list[Call]) -> None:
        self.items.append((op, calls))
        self.calls += len(calls)
        if isinstance(op, ops.FundGas):
            self._funded.add(op.member)
        if isinstance(op, ops.Split):
            self._made.update(op.new_ids)
            self._splitter[slot_of(op.token_id)] = op.holder

    @property
    def full(self) -> bool:
        return self.calls >= WINDOW

    def send(self, sent: Callable[[ops.Op], None]) -> None:
        """Send the window; `sent(op)` for each, in order, once its receipt and prediction are checked."""
        items = list(self.items)
        self.items.clear()
        self.calls = 0
        self._funded.clear()
        self._made.clear()
        self._splitter.clear()
        if not items:
            return
        scf, expect = self.executor.scf, self.executor._expect
        self.executor.chain_time = None  # the window moves the clock: the next one reads it again
        receipts = iter(scf.tx.transact_many([c for _, calls in items for c in calls], window=WINDOW))
        for op, calls in items:
            mine = [next(receipts) for _ in calls]
            match op:
                case ops.Split():
                    new_ids = scf.receivables.split_result(mine[0]).new_token_ids
                    expect("token ids of the new fragments", new_ids, op.new_ids)
                case ops.Issue():
                    expect(
                        "token id of the issued fragment", scf.receivables.issue_result(mine[0]).token_id, op.token_id
                    )
                case ops.Finance():
                    financed = scf.financing.finance_result(mine[0]).financed_token_id
                    expect("token id of the financed fragment", financed, op.financed_id)
                case ops.ClaimRecourse():
                    expect("recourse claim", scf.financing.recourse_claimed(mine[0]), op.amount)
                case ops.Repay() | ops.Settle():
                    pages = mine[len(mine) - op.pages :]
                    paid = sum(scf.receivables.settle_result(r).fragments for r in pages)
                    expect("fragments settled", paid, op.fragments_paid)
            sent(op)


class Executor:
    def __init__(self, w3: Web3, scf: ScfClient, accounts: Accounts) -> None:
        self.w3 = w3
        self.scf = scf
        self.accounts = accounts
        self.operator = accounts.operator
        # The chain's time as last read: a window's financing requests share one read (each lives a day, so a
        # window's seconds do not matter); sending anything reads it again.
        self.chain_time: int | None = None

    @property
    def pipelines(self) -> bool:
        """Whether operations go in windows (`Pipeline`): on a node, not on the embedded chain, where a pipeline
        gains nothing (the chain runs in this process)."""
        return self.scf.tx.pipelines

    def calls_of(self, op: ops.Op) -> list[Call] | None:
        """`op` as transactions that can be written before the previous ones are mined (see `Pipeline`); None
        for the others."""
        scf, a, operator = self.scf, self.accounts, self.operator
        rt = scf.receivables
        match op:
            case ops.FundGas():
                need = scf.tx.funding_for(op.sends)  # a new member's balance is 0: no need to ask
                return [scf.tx.value_call(operator, a.address(op.member), need)] if need else []
            case ops.Admit():
                return [scf.membership.admit_call(operator, a.address(op.member), op.role, keccak(text=op.member))]
            case ops.Mint():
                return [scf.cash.mint_call(operator, a.address(op.member), op.amount)]
            case ops.ApproveDeskValue():
                return [rt.set_approval_for_all_call(a[op.holder], scf.financing.address, True)]
            case ops.Split():
                payments = [(a.address(member), value) for member, value in op.payments]
                return [rt.split_call(a[op.holder], op.token_id, payments, op.memo)]
            case ops.Issue():
                return [rt.issue_call(a[op.debtor], a.address(op.holder), op.face, op.maturity, op.document_hash)]
            case ops.Accept():
                return [rt.accept_call(a[op.holder], op.token_id)]
            case ops.Finance():
                request, signature = self._financing_request(op)
                return [scf.financing.finance_call(a[op.financier], request, signature)]
            case ops.Repay():
                payer = a[op.payer]
                paying = [scf.cash.approve_call(payer, rt.address, op.amount), rt.repay_call(payer, op.slot, op.amount)]
                return [*paying, *self._settle_calls(op.slot, op.paid_ids)]
            case ops.Settle():
                return self._settle_calls(op.slot, op.paid_ids)
            case ops.SetCreditLine():
                return [rt.set_credit_line_call(operator, a.address(op.debtor), op.limit)]
            case ops.ApproveDeskCash():
                return [scf.cash.approve_call(a[op.financier], scf.financing.address, UNLIMITED_ALLOWANCE)]
            case ops.SetExposureLimit():
                return [scf.financing.set_exposure_limit_call(a[op.financier], a.address(op.debtor), op.limit)]
            case ops.MarkOverdue():
                return [rt.mark_overdue_call(operator, op.slot)]
            case ops.ClaimRecourse():
                return [scf.financing.claim_recourse_call(a[op.financier], op.financed_id)]
        return None

    def _settle_calls(self, slot: int, token_ids: tuple[int, ...]) -> list[Call]:
        """The settle transactions paying `token_ids`, sent by the operator as a keeper."""
        return [self.scf.receivables.settle_call(self.operator, slot, page) for page in ops.pages_of(token_ids)]

    def run(self, op: ops.Op, *, resuming: bool) -> None:
        """Send `op`; when `resuming`, first skip it if the chain shows it was done before a crash."""
        self.chain_time = None
        if resuming and self.done(op):
            return
        self._send(op, resuming=resuming)

    # ------------------------------------------------------------------ was it done?

    def done(self, op: ops.Op) -> bool:
        """Whether `op`'s effect is on chain already. Operations that are safe to repeat (approvals, limits,
        settlements, which read what is owed) answer False and are simply sent again."""
        scf, a = self.scf, self.accounts
        match op:
            case ops.Admit():
                return scf.membership.role_of(a.address(op.member)) is not Role.NONE
            case ops.Mint():
                return scf.cash.total_supply() >= op.supply_after
            case ops.Issue():
                try:
                    scf.receivables.receivable(op.slot)
                except ContractError:
                    return False
                return True
            case ops.Accept() | ops.Reject():
                return scf.receivables.receivable(slot_of(op.token_id)).state is not ReceivableState.PENDING
            case ops.Split():
                created = scf.receivables.receivable(slot_of(op.token_id)).fragments_created
                return created >= sequence_of(op.new_ids[-1])
            case ops.Transfer():
                return scf.receivables.owner_of(op.token_id) == a.address(op.to)
            case ops.Finance():
                return scf.financing.nonce_used(a.address(op.holder), op.nonce)
            case ops.Freeze():
                return scf.receivables.is_frozen(op.token_id)
            case ops.Unfreeze():
                return not scf.receivables.is_frozen(op.token_id)
            case ops.MarkOverdue():
                return scf.receivables.receivable(op.slot).state is ReceivableState.OVERDUE
            case ops.ClaimRecourse():
                return scf.financing.financing(op.financed_id).recourse_claim != 0
            case ops.SettleRecourse():
                return scf.financing.financing(op.financed_id).recourse_settled
            case ops.RedeemRecourse():
                return scf.financing.custody(op.financed_id).distributed >= op.distributed_after
        return False

    # ------------------------------------------------------------------ sending

    def _send(self, op: ops.Op, *, resuming: bool) -> None:
        scf, a, operator = self.scf, self.accounts, self.operator
        rt, desk = scf.receivables, scf.financing
        match op:
            case ops.FundGas():
                address = a.address(op.member)
                need = scf.tx.funding_for(op.sends)  # 0 on a free-gas chain
                if need and (have := self.w3.eth.get_balance(address)) < need:  # type: ignore[arg-type]
                    scf.tx.send_value(operator, address, need - have)
            case ops.Admit():
                scf.membership.admit(operator, a.address(op.member), op.role, keccak(text=op.member))
            case ops.SetGracePeriod():
                rt.set_grace_period(operator, op.seconds)
            case ops.SetCreditLine():
                rt.set_credit_line(operator, a.address(op.debtor), op.limit)
            case ops.Mint():
                scf.cash.mint(operator, a.address(op.member), op.amount)
            case ops.ApproveDeskCash():
                scf.cash.approve(a[op.financier], desk.address, UNLIMITED_ALLOWANCE)
            case ops.SetExposureLimit():
                desk.set_exposure_limit(a[op.financier], a.address(op.debtor), op.limit)
            case ops.Issue():
                issued = rt.issue(a[op.debtor], a.address(op.holder), op.face, op.maturity, op.document_hash)
                self._expect("token id of the issued fragment", issued.token_id, op.token_id)
            case ops.Accept():
                rt.accept(a[op.holder], op.token_id)
            case ops.Reject():
                rt.reject(a[op.holder], op.token_id)
            case ops.Split():
                payments = [(a.address(member), value) for member, value in op.payments]
                split = rt.split(a[op.holder], op.token_id, payments, op.memo)
                self._expect("token ids of the new fragments", split.new_token_ids, op.new_ids)
            case ops.Transfer():
                rt.transfer(a[op.holder], a.address(op.to), op.token_id)
            case ops.ApproveDeskValue():
                rt.set_approval_for_all(a[op.holder], desk.address, True)
            case ops.Finance():
                self._finance(op)
            case ops.Freeze():
                rt.freeze(operator, op.token_id, op.reason)
            case ops.Unfreeze():
                rt.unfreeze(operator, op.token_id)
            case ops.Advance():
                if (delta := op.to_time - now(self.w3)) > 0:
                    advance_time(self.w3, delta)
            case ops.Repay():
                self._repay(op, resuming=resuming)
            case ops.Settle():
                report = repay_and_settle(scf, operator, operator, op.slot, amount=0)
                if not resuming:
                    self._expect("fragments settled", report.fragments_paid, op.fragments_paid)
            case ops.MarkOverdue():
                rt.mark_overdue(operator, op.slot)
            case ops.ClaimRecourse():
                desk.claim_recourse(a[op.financier], op.financed_id)
                self._expect("recourse claim", desk.financing(op.financed_id).recourse_claim, op.amount)
            case ops.SettleRecourse():
                scf.cash.approve(a[op.seller], desk.address, op.amount)
                desk.settle_recourse(a[op.seller], op.financed_id)
                self._expect("buy-back price", desk.custody(op.financed_id).seller_share, op.amount)
            case ops.RedeemRecourse():
                redeemed = desk.redeem_recourse(operator, op.financed_id)
                self._expect(
                    "recourse redemption (to seller, to financier)",
                    (redeemed.to_seller, redeemed.to_financier),
                    (op.to_seller, op.to_financier),
                )
            case _:
                raise TypeError(f"no way to send {op!r}")

    def _finance(self, op: ops.Finance) -> None:
        request, signature = self._financing_request(op)
        funded = self.scf.financing.finance(self.accounts[op.financier], request, signature)
        self._expect("token id of the financed fragment", funded.financed_token_id, op.financed_id)

    def _now(self) -> int:
        if self.chain_time is None:
            self.chain_time = now(self.w3)
        return self.chain_time

    def _financing_request(self, op: ops.Finance) -> tuple[FinancingRequest, bytes]:
        """The request `op` stands for, signed by the holder (off chain: the financier sends it)."""
        a = self.accounts
        request = FinancingRequest(
            token_id=op.token_id,
            value=op.value,
            price=op.price,
            financier=ZERO_ADDRESS if op.open_market else a.address(op.financier),
            recourse=op.recourse,
            nonce=op.nonce,
            deadline=self._now() + REQUEST_LIFETIME,
        )
        return request, self.scf.financing.sign(a[op.holder], request)

    def _repay(self, op: ops.Repay, *, resuming: bool) -> None:
        scf, payer = self.scf, self.accounts[op.payer]
        paid_before = resuming and scf.receivables.receivable(op.slot).repaid >= op.repaid_after
        amount = 0 if paid_before else op.amount
        if op.pages:
            report = repay_and_settle(scf, payer, self.operator, op.slot, amount=amount)
            if not resuming:
                self._expect("fragments settled", report.fragments_paid, op.fragments_paid)
        elif amount:
            if scf.cash.allowance(payer.address, scf.receivables.address) < amount:
                scf.cash.approve(payer, scf.receivables.address, amount)
            scf.receivables.repay(payer, op.slot, amount)

    @staticmethod
    def _expect(what: str, got: object, planned: object) -> None:
        if got != planned:
            raise Diverged(
                f"{what}: the chain says {got}, the plan predicted {planned}; is something else using this deployment?"
            )
