"""The whole system against one model: a Hypothesis state machine drives Membership, ReceivableToken,
SettlementToken and FinancingDesk together on the embedded chain, as the consortium would use them, and keeps
an exact Python model of all of it.

Driven: members suspended and reinstated; issue, accept, reject, split, whole transfer, freeze, unfreeze;
financing requests signed, cancelled, expired, replayed and funded (by the named financier or any), resold
through the desk by a financier, with and without recourse; exposure limits set and released; repayment in
parts, early and late; maturity; overdue; redeem by holders and settle by a keeper; recourse claimed,
settled (the desk takes the fragment) and redeemed on to seller and financier; the clock.

Every call is predicted: a success is applied to the model, a refusal must come back as exactly the named
error, with the fields, that the model predicts from the contracts' order of checks. After every step:
value conserves per receivable; cash conserves (supply = the sum of balances; the token's escrow = repaid -
paid out; the desk holds exactly what it has yet to pay on); no fragment is paid more than its share; exposure
never exceeds a limit and equals the open records; recourse exists only where sold with recourse; the chain
equals the model. After every example the event index, rebuilt from the chain, equals the chain.

CI runs MAX_EXAMPLES x STEPS_PER_EXAMPLE steps (>= 2,000) on fixed seeds; `make soak` runs SCF_SOAK_STEPS
(20,000 by default) on random ones and prints the count of each outcome.
"""

from __future__ import annotations

import os
import random
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

import pytest
from eth_account.signers.local import LocalAccount
from hypothesis import HealthCheck, Phase, seed, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test
from web3 import Web3

from chain_client import ContractError, ReceivableState, Role, ScfClient, new_account, rules
from chain_client.chain import revert_to, snapshot
from chain_client.constants import ZERO_ADDRESS
from chain_client.contract_errors import (
    AccountSuspended,
    AlreadySuspended,
    CallerNotHolder,
    ExposureLimitExceeded,
    ExposureStillOutstanding,
    FragmentFrozen,
    FragmentNotFrozen,
    GracePeriodNotOver,
    InsufficientValue,
    InvalidFinancingValue,
    InvalidPrice,
    NonceAlreadyUsed,
    NonexistentToken,
    NoRecourse,
    NotAuthorized,
    NothingToDistribute,
    NothingToRedeem,
    NotInCustody,
    NotSuspended,
    ReceivableMatured,
    ReceivableNotActive,
    ReceivableNotMatured,
    ReceivableNotOverdue,
    RecourseEnded,
    RecourseUnavailable,
    RepaymentExceedsOutstanding,
    RequestExpired,
    RequestForAnotherFinancier,
    SelfFinancing,
    SignerNotHolder,
    ZeroRepayment,
    ZeroValue,
)
from chain_client.devchain import advance_time, now
from chain_client.financing import FinancingRequest
from chain_client.ids import slot_of, slot_of_document, token_id_of
from chain_client.index import EventIndex, Indexer, reconcile
from tests.conftest import DAY, Parties, doc_hash
from tests.test_invariants_stateful import in_fresh_thread

HOUR = 3600
MARGIN = HOUR  # the clock never stops this close to a maturity, an overdue date or a request's deadline
MAX_OPEN = 4  # receivables not yet repaid, rejected or cancelled
MAX_LIVE = 14  # live fragments
FACE = (1_000_00, 5_000_000_00)  # fen
LIMIT = 12_000_000_00  # each financier's initial exposure limit per debtor: reached now and then
CASH = 10**13  # what each member starts with
# The model's own invariants are checked after every step; the chain is read back in full (every fragment,
# receivable, balance, exposure and record: about 40 calls) after every CHECK_EVERY-th step and at the end of
# each example, which keeps 2,000 steps within a few minutes on two cores.
CHECK_EVERY = int(os.environ.get("SCF_CHECK_EVERY", "5"))

SOAK = os.environ.get("SCF_SOAK_STEPS", "")
# SCF_SEED=n runs the CI-sized test on seed n instead of the fixed one: the rare outcomes it requires must be
# reached on any seed and whatever ran before on the shared chain, not on one lucky draw.
SEED = os.environ.get("SCF_SEED", "")
if SOAK:
    STEPS_PER_EXAMPLE = 100
    MAX_EXAMPLES = max(1, int(SOAK) // STEPS_PER_EXAMPLE)
else:
    STEPS_PER_EXAMPLE = 50
    MAX_EXAMPLES = 45  # up to 2,250 steps: Hypothesis ends some examples early; the test asserts >= 2,000
SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    stateful_step_count=STEPS_PER_EXAMPLE,
    derandomize=not SOAK,  # fixed seeds in CI: a failure reproduces; the soak explores
    suppress_health_check=list(HealthCheck),  # a 50-step example against a chain trips several
    # Shrinking a long stateful run against a chain takes far longer than finding the failure; the failing
    # example is printed step by step either way. SCF_SHRINK=1 shrinks it.
    phases=[Phase.explicit, Phase.reuse, Phase.generate, *([Phase.shrink] if os.environ.get("SCF_SHRINK") else [])],
)

REQUIRED_OUTCOMES = frozenset(
    {
        "issue:ok",
        "accept:ok",
        "split:ok",
        "transfer:ok",
        "suspend:ok",
        "reinstate:ok",
        "freeze:ok",
        "finance:ok",
        "finance:resale",
        "finance:NonceAlreadyUsed",
        "finance:RequestExpired",
        "finance:SignerNotHolder",
        "finance:InvalidFinancingValue",
        "finance:ExposureLimitExceeded",
        "cancel_request:ok",
        "repay:ok",
        "mark_overdue:ok",
        "redeem:ok",
        "settle:ok",
        "claim_recourse:ok",
        "settle_recourse:ok",
        "redeem_recourse:ok",
        "release_exposure:ok",
        "any:AccountSuspended",
        "any:FragmentFrozen",
        "any:ReceivableMatured",
    }
)

S = ReceivableState


@dataclass
class Rec:
    slot: int
    debtor: str
    supplier: str
    face: int
    maturity: int
    state: ReceivableState = S.PENDING  # as stored: Matured only once recorded
    repaid: int = 0
    paid_out: int = 0
    redeemed: int = 0
    last_sequence: int = 1


@dataclass
class Frag:
    token_id: int
    owner: str | None  # None: burned
    value: int
    paid: int = 0
    frozen: bool = False

    @property
    def slot(self) -> int:
        return slot_of(self.token_id)


@dataclass
class Financing:
    financier: str
    value: int
    recourse: bool
    seller: str
    released: bool = False
    claim: int = 0
    settled: bool = False


@dataclass
class Custody:
    fragment_value: int
    paid_before: int
    seller_share: int
    distributed: int = 0
    paid_to_seller: int = 0


@dataclass
class Signed:
    request: FinancingRequest
    signature: bytes
    signer: str


@dataclass
class Refusal:
    error: type[ContractError]
    fields: dict[str, object] = field(default_factory=dict)


def refuse(error: type[ContractError], **fields: object) -> Refusal:
    return Refusal(error, fields)


class SystemMachine(RuleBasedStateMachine):
    w3: ClassVar[Web3]
    scf: ClassVar[ScfClient]
    operator: ClassVar[LocalAccount]
    cores: ClassVar[list[LocalAccount]]
    suppliers: ClassVar[list[LocalAccount]]
    financiers: ClassVar[list[LocalAccount]]
    keeper: ClassVar[LocalAccount]
    outcomes: ClassVar[Counter[str]] = Counter()
    steps: ClassVar[int] = 0
    checks: ClassVar[int] = 0
    calls: ClassVar[int] = 0  # contract calls made (a step may make several: a refused one and then another)

    def __init__(self) -> None:
        super().__init__()
        self.snapshot_id = snapshot(self.w3)
        self.desk = self.scf.financing.address
        self.token = self.scf.receivables.address
        self.grace = self.scf.receivables.grace_period()
        everyone = [self.operator, *self.cores, *self.suppliers, *self.financiers]
        self.accounts: dict[str, LocalAccount] = {a.address: a for a in everyone}
        self.suspended: set[str] = set()
        self.receivables: dict[int, Rec] = {}
        self.fragments: dict[int, Frag] = {}
        self.records: dict[int, Financing] = {}
        self.custody: dict[int, Custody] = {}
        self.requests: list[Signed] = []
        self.used_nonces: set[tuple[str, int]] = set()
        self.next_nonce = 0
        self.cash: dict[str, int] = {a: self.scf.cash.balance_of(a) for a in [*self.accounts, self.desk, self.token]}
        self.supply = self.scf.cash.total_supply()
        self.limits: dict[tuple[str, str], int] = {
            (f.address, c.address): LIMIT for f in self.financiers for c in self.cores
        }
        self.used: dict[tuple[str, str], int] = {(f.address, c.address): 0 for f in self.financiers for c in self.cores}
        self.credit_used: dict[str, int] = {
            c.address: self.scf.receivables.credit_line(c.address)[1] for c in self.cores
        }
        self.clock = now(self.w3)
        self.deadlines: list[int] = []
        self.final_check = False

    def _read_chain(self) -> bool:
        type(self).checks += 1
        return self.steps % CHECK_EVERY == 0 or self.final_check

    def teardown(self) -> None:
        try:
            self.final_check = True
            self.value_and_fragments_match()
            self.cash_conserves()
            self.exposure_and_recourse_hold()
            self._index_equals_chain()
        finally:
            revert_to(self.w3, self.snapshot_id)

    # ------------------------------------------------------------------------------------------- model helpers

    def _live(self) -> list[Frag]:
        return [f for f in self.fragments.values() if f.owner is not None]

    def _live_of(self, slot: int) -> list[Frag]:
        return [f for f in self._live() if f.slot == slot]

    def _open(self) -> list[Rec]:
        return [r for r in self.receivables.values() if r.state not in (S.REPAID, S.REJECTED, S.CANCELLED)]

    def _matured(self, r: Rec) -> bool:
        return r.maturity <= self.clock

    def _view_state(self, r: Rec) -> ReceivableState:
        return S.MATURED if r.state is S.ACTIVE and self._matured(r) else r.state

    def _record_maturity(self, r: Rec) -> None:
        if r.state is S.ACTIVE and self._matured(r):
            r.state = S.MATURED

    def _active(self, address: str) -> bool:
        return address not in self.suspended

    def _inactive(self, address: str) -> Refusal | None:
        """MemberWord._requireActive for an admitted account (or an escrow contract)."""
        return refuse(AccountSuspended, account=address) if address in self.suspended else None

    def _move_cash(self, frm: str, to: str, amount: int) -> None:
        self.cash[frm] -= amount
        self.cash[to] += amount

    def _cash_refusal(self, frm: str, to: str) -> Refusal | None:
        """SettlementToken checks both parties (escrow contracts have no role and are never suspended)."""
        return self._inactive(frm) or self._inactive(to)

    def _attempt(self, name: str, refusal: Refusal | None, action: Any) -> Any:
        type(self).calls += 1
        if refusal is None:
            out = action()
            self.outcomes[f"{name}:ok"] += 1
            return out
        with pytest.raises(ContractError) as info:
            action()
        error = info.value
        assert type(error) is refusal.error, f"{name}: the model expected {refusal}, the chain said {error!r}"
        for key, expected in refusal.fields.items():
            got = getattr(error, key)
            assert got == expected, f"{name}: {error!r} has {key}={got!r}, the model says {expected!r}"
        self.outcomes[f"{name}:{refusal.error.__name__}"] += 1
        self.outcomes[f"any:{refusal.error.__name__}"] += 1
        return None

    def _boundaries(self) -> list[int]:
        out = list(self.deadlines)
        for r in self._open():
            out += [r.maturity, r.maturity + self.grace]
        return out

    def _safe_time(self, target: int) -> int:
        """Move `target` past any boundary within MARGIN of it, so no prediction depends on a second."""
        for _ in range(64):
            close = [b for b in self._boundaries() if abs(target - b) <= MARGIN]
            if not close:
                return target
            target = max(close) + MARGIN + 1
        raise AssertionError("could not find a clear time")

    def _sync_clock(self) -> None:
        self.clock = now(self.w3)
        assert all(abs(self.clock - b) > MARGIN // 2 for b in self._boundaries()), "the clock came too close"

    # ------------------------------------------------------------------------------------------- life cycle

    def issue(self, data: st.DataObject) -> None:
        core = self.rng.randint(0, 1)
        supplier = self.rng.randint(0, 3)
        face = self.rng.randint(*FACE)
        days = self.rng.randint(5, 60)
        debtor, holder = self.cores[core], self.suppliers[supplier]
        maturity = self._safe_time(self.clock + days * DAY)
        document = doc_hash()
        refusal = self._inactive(holder.address)
        issued = self._attempt(
            "issue",
            refusal,
            lambda: self.scf.receivables.issue(debtor, holder.address, face, maturity, document),
        )
        if issued is not None:
            slot = slot_of_document(debtor.address, document)
            assert issued.slot == slot
            self.receivables[slot] = Rec(slot, debtor.address, holder.address, face, maturity)
            self.fragments[issued.token_id] = Frag(issued.token_id, holder.address, face)
            self.credit_used[debtor.address] += face
            if self.rng.random() < 0.8 and self._active(holder.address):  # most suppliers accept at once
                self._attempt("accept", None, lambda: self.scf.receivables.accept(holder, issued.token_id))
                self.receivables[slot].state = S.ACTIVE
        self._sync_clock()

    def _pending(self) -> list[Rec]:
        return [r for r in self.receivables.values() if r.state is S.PENDING]

    def _pending_refusal(self, r: Rec, caller: LocalAccount) -> Refusal | None:
        tid = token_id_of(r.slot, 1)
        if caller.address != r.supplier:
            return refuse(CallerNotHolder, token_id=tid, caller=caller.address, holder=r.supplier)
        if self._matured(r):
            return refuse(ReceivableMatured, slot=r.slot, maturity=r.maturity)
        return None

    def accept_or_reject(self, data: st.DataObject) -> None:
        reject = self.rng.randint(0, 5)
        stranger = self.rng.randint(0, 9)
        r = self.rng.choice(self._pending())
        caller = (
            self.accounts[r.supplier]
            if stranger < 9
            else self.suppliers[(self.suppliers.index(self.accounts[r.supplier]) + 1) % 4]
        )
        tid = token_id_of(r.slot, 1)
        frag = self.fragments[tid]
        refusal = self._pending_refusal(r, caller)
        if reject == 5:
            refusal = refusal or (refuse(FragmentFrozen, token_id=tid) if frag.frozen else None)
            if self._attempt("reject", refusal, lambda: self.scf.receivables.reject(caller, tid)) is not None:
                r.state = S.REJECTED
                self.credit_used[r.debtor] -= r.face
                frag.owner, frag.value, frag.frozen = None, 0, False
        else:
            refusal = refusal or self._inactive(caller.address)
            if self._attempt("accept", refusal, lambda: self.scf.receivables.accept(caller, tid)) is not None:
                r.state = S.ACTIVE
        self._sync_clock()

    # ------------------------------------------------------------------------------------------- moving value

    def _members(self) -> list[LocalAccount]:
        return [*self.suppliers, *self.financiers]

    def _holders(self) -> list[Frag]:
        """Live fragments held by a member (not by the desk in custody)."""
        return [f for f in self._live() if f.owner != self.desk]

    def _movable_refusal(self, frag: Frag) -> Refusal | None:
        r = self.receivables[frag.slot]
        if r.state is not S.ACTIVE:
            return refuse(ReceivableNotActive, slot=r.slot, state=r.state)
        if self._matured(r):
            return refuse(ReceivableMatured, slot=r.slot, maturity=r.maturity)
        return None

    def split(self, data: st.DataObject) -> None:
        to = self.rng.randint(0, 5)
        kind = self.rng.randint(0, 9)
        frag = self.rng.choice(self._holders())
        owner = self.accounts[frag.owner] if frag.owner else self.operator
        recipient = self._members()[to]
        value = 0 if kind == 9 else frag.value + 1 if kind == 8 else self.rng.randint(1, max(frag.value, 1))
        refusal: Refusal | None
        if value == 0:
            refusal = refuse(ZeroValue, token_id=frag.token_id)
        elif value > frag.value:
            refusal = refuse(InsufficientValue, token_id=frag.token_id, balance=frag.value, needed=value)
        else:
            refusal = refuse(FragmentFrozen, token_id=frag.token_id) if frag.frozen else None
        refusal = (
            refusal or self._movable_refusal(frag) or self._inactive(owner.address) or self._inactive(recipient.address)
        )

        def move() -> object:
            return self.scf.receivables.transfer_value(owner, frag.token_id, recipient.address, value)

        done = self._attempt("split", refusal, move)
        if done is not None:
            r = self.receivables[frag.slot]
            r.last_sequence += 1
            new_id = token_id_of(r.slot, r.last_sequence)
            frag.value -= value
            self.fragments[new_id] = Frag(new_id, recipient.address, value)
        self._sync_clock()

    def transfer(self, data: st.DataObject) -> None:
        to = self.rng.randint(0, 5)
        frag = self.rng.choice(self._holders())
        assert frag.owner is not None
        owner, recipient = self.accounts[frag.owner], self._members()[to]
        refusal = (
            (refuse(FragmentFrozen, token_id=frag.token_id) if frag.frozen else None)
            or self._movable_refusal(frag)
            or self._inactive(owner.address)
            or self._inactive(recipient.address)
        )
        done = self._attempt(
            "transfer", refusal, lambda: self.scf.receivables.transfer(owner, recipient.address, frag.token_id)
        )
        if done is not None:
            frag.owner = recipient.address
        self._sync_clock()

    def freeze_or_unfreeze(self, data: st.DataObject) -> None:
        frozen = [f for f in self._live() if f.frozen]
        if frozen and self.rng.random() < 0.7:  # disputes end: most of the time, lift a freeze
            frag = self.rng.choice(frozen)
            if self._attempt("unfreeze", None, lambda: self.scf.receivables.unfreeze(self.operator, frag.token_id)):
                frag.frozen = False
            again = refuse(FragmentNotFrozen, token_id=frag.token_id)
            self._attempt("unfreeze", again, lambda: self.scf.receivables.unfreeze(self.operator, frag.token_id))
            self._sync_clock()
            return
        frag = self.rng.choice(self._live())
        if frag.frozen:
            self._attempt("freeze_again", None, lambda: self.scf.receivables.freeze(self.operator, frag.token_id))
        else:
            self._attempt("freeze", None, lambda: self.scf.receivables.freeze(self.operator, frag.token_id))
            frag.frozen = True
        self._sync_clock()

    def suspend_or_reinstate(self, data: st.DataObject) -> None:
        who = self.rng.randint(0, 5)
        member = self._members()[who]
        if self.suspended and self.rng.random() < 0.75:  # suspensions are brief: most of the time, lift one
            member = self.accounts[sorted(self.suspended)[who % len(self.suspended)]]
        if member.address in self.suspended:
            self._attempt("reinstate", None, lambda: self.scf.membership.reinstate(self.operator, member.address))
            self.suspended.discard(member.address)
            again = refuse(NotSuspended, account=member.address)
            self._attempt("reinstate", again, lambda: self.scf.membership.reinstate(self.operator, member.address))
        else:
            self._attempt("suspend", None, lambda: self.scf.membership.suspend(self.operator, member.address))
            self.suspended.add(member.address)
            again = refuse(AlreadySuspended, account=member.address)
            self._attempt("suspend", again, lambda: self.scf.membership.suspend(self.operator, member.address))
        self._sync_clock()

    # ------------------------------------------------------------------------------------------- financing

    def sign_request(self, data: st.DataObject) -> None:
        """A holder signs a request off chain (no transaction): most are sound, some carry one defect."""
        value_kind = self.rng.randint(0, 23)  # 22, 23: one of the value defects
        price_kind = self.rng.randint(0, 19)  # 18, 19: one of the price defects
        recourse = self.rng.random() < 0.5
        named = self.rng.randint(0, 2)
        expired = self.rng.randint(0, 19)
        reuse = self.rng.randint(0, 19)
        movable = [f for f in self._holders() if not f.frozen and self._movable_refusal(f) is None]
        bought = [f for f in movable if f.owner in {b.address for b in self.financiers}]
        if bought and self.rng.random() < 0.5:  # a financier resells what it bought, through the desk
            frag = self.rng.choice(bought)
        else:
            frag = self.rng.choice(movable if movable and self.rng.random() < 0.8 else self._holders())
        assert frag.owner is not None
        holder = self.accounts[frag.owner]
        if value_kind == 23:
            value = 0
        elif value_kind == 22:
            value = frag.value + 1
        elif value_kind >= 15:
            value = frag.value
        else:
            value = self.rng.randint(1, max(frag.value, 1))
        price = 0 if price_kind == 19 else value + 1 if price_kind == 18 else max(value * 97 // 100, 1)
        financier = ZERO_ADDRESS if named == 0 else self.financiers[named - 1].address
        if financier == holder.address and self.rng.random() < 0.9:  # a financier reselling names another one
            financier = next(f.address for f in self.financiers if f.address != holder.address)
        deadline = self.clock - 2 * MARGIN if expired == 19 else self.clock + 10 * DAY
        if reuse == 19 and self.used_nonces and any(s == holder.address for s, _ in self.used_nonces):
            nonce = next(n for s, n in sorted(self.used_nonces) if s == holder.address)
        else:
            self.next_nonce += 1
            nonce = self.next_nonce
        request = FinancingRequest(frag.token_id, value, price, financier, recourse, nonce, deadline)
        self.requests.append(Signed(request, self.scf.financing.sign(holder, request), holder.address))
        self.deadlines.append(deadline)

    def _finance_refusal(self, s: Signed, financier: LocalAccount) -> Refusal | None:
        req, f_addr = s.request, financier.address
        if f_addr in self.suspended:
            return refuse(AccountSuspended, account=f_addr)
        if self.clock > req.deadline:
            return refuse(RequestExpired, deadline=req.deadline)
        if req.financier != ZERO_ADDRESS and req.financier != f_addr:
            return refuse(RequestForAnotherFinancier, financier=req.financier, caller=f_addr)
        if s.signer == f_addr:
            return refuse(SelfFinancing, account=f_addr)
        frag = self.fragments[req.token_id]
        if frag.owner is None:
            return refuse(NonexistentToken, token_id=req.token_id)
        if frag.owner != s.signer:
            return refuse(SignerNotHolder, token_id=req.token_id, signer=s.signer, holder=frag.owner)
        if (s.signer, req.nonce) in self.used_nonces:
            return refuse(NonceAlreadyUsed, signer=s.signer, nonce=req.nonce)
        if req.value == 0 or req.value > frag.value:
            return refuse(InvalidFinancingValue, token_id=req.token_id, value=req.value, balance=frag.value)
        if req.price == 0 or req.price > req.value:
            return refuse(InvalidPrice, price=req.price, value=req.value)
        debtor = self.receivables[frag.slot].debtor
        limit, used = self.limits[(f_addr, debtor)], self.used[(f_addr, debtor)]
        if used + req.value > limit:
            return refuse(
                ExposureLimitExceeded, financier=f_addr, debtor=debtor, limit=limit, used=used, value=req.value
            )
        if frag.frozen:
            return refuse(FragmentFrozen, token_id=req.token_id)
        return self._movable_refusal(frag) or self._inactive(s.signer)

    def _sound(self, s: Signed) -> bool:
        """Nothing about the request itself or its fragment would refuse it now (the funder may still)."""
        req, frag = s.request, self.fragments[s.request.token_id]
        if frag.owner != s.signer or frag.frozen or (s.signer, req.nonce) in self.used_nonces:
            return False
        r = self.receivables[frag.slot]
        return (
            r.state is S.ACTIVE
            and not self._matured(r)
            and req.deadline > self.clock
            and 0 < req.value <= frag.value
            and 0 < req.price <= req.value
        )

    def _release(self, tid: int, record: Financing, debtor: str, amount: int) -> None:
        record.value -= amount
        if record.value == 0:
            record.released = True
        self.used[(record.financier, debtor)] -= amount

    def finance(self, data: st.DataObject) -> None:
        which = self.rng.randint(0, 1)
        sound = [s for s in self.requests if self._sound(s)]
        resales = [s for s in sound if s.signer in {f.address for f in self.financiers}]
        if resales and self.rng.random() < 0.5:  # a resale offered is mostly taken: resales are few otherwise
            s = self.rng.choice(resales)
        else:
            s = self.rng.choice(sound if sound and self.rng.random() < 0.75 else self.requests)
        req = s.request
        # Mostly the financier the request names, or one that is not the seller; now and then another (refused).
        if req.financier != ZERO_ADDRESS and self.rng.random() < 0.85:
            financier = self.accounts[req.financier]
        elif self.rng.random() < 0.85:
            financier = next(f for f in self.financiers if f.address != s.signer)
        else:
            financier = self.financiers[which]
        refusal = self._finance_refusal(s, financier)
        done = self._attempt("finance", refusal, lambda: self.scf.financing.finance(financier, req, s.signature))
        if done is not None:
            f_addr = financier.address
            frag = self.fragments[req.token_id]
            r = self.receivables[frag.slot]
            self.used_nonces.add((s.signer, req.nonce))
            self.used[(f_addr, r.debtor)] += req.value
            earlier = self.records.get(req.token_id)
            if earlier is not None and earlier.financier == s.signer:
                self.outcomes["finance:resale"] += 1
            if req.value == frag.value:
                frag.owner = f_addr
                financed = req.token_id
                if earlier is not None and not earlier.released:
                    self._release(req.token_id, earlier, r.debtor, earlier.value)
            else:
                r.last_sequence += 1
                financed = token_id_of(r.slot, r.last_sequence)
                frag.value -= req.value
                self.fragments[financed] = Frag(financed, f_addr, req.value)
                if earlier is not None and earlier.financier == s.signer and not earlier.released:
                    self._release(req.token_id, earlier, r.debtor, min(req.value, earlier.value))
            assert done.financed_token_id == financed
            self.records[financed] = Financing(
                f_addr, req.value, req.recourse, s.signer if req.recourse else ZERO_ADDRESS
            )
            self._move_cash(f_addr, s.signer, req.price)
            if self.rng.random() < 0.8:  # most funded requests leave the book; the rest are replayed later
                self.requests.remove(s)
        self._sync_clock()

    def cancel_request(self, data: st.DataObject) -> None:
        s = self.rng.choice(self.requests)
        key = (s.signer, s.request.nonce)
        refusal = refuse(NonceAlreadyUsed, signer=s.signer, nonce=s.request.nonce) if key in self.used_nonces else None
        signer = self.accounts[s.signer]
        if self._attempt("cancel_request", refusal, lambda: self.scf.financing.cancel(signer, s.request.nonce)):
            self.used_nonces.add(key)
        self._sync_clock()

    def set_exposure_limit(self, data: st.DataObject) -> None:
        financier = self.rng.randint(0, 1)
        core = self.rng.randint(0, 1)
        limit = self.rng.choice([LIMIT, 10 * LIMIT, 0])
        f, c = self.financiers[financier], self.cores[core]
        refusal = self._inactive(f.address)
        if self._attempt(
            "set_exposure_limit", refusal, lambda: self.scf.financing.set_exposure_limit(f, c.address, limit)
        ):
            self.limits[(f.address, c.address)] = limit
        self._sync_clock()

    def _releasable(self) -> list[int]:
        return [t for t, rec in self.records.items() if not rec.released]

    def _release_due(self, tid: int) -> bool:
        """`releaseExposure`'s test: repaid in full, burned, or no longer held by the financier."""
        record, frag = self.records[tid], self.fragments[tid]
        return self.receivables[frag.slot].state is S.REPAID or frag.owner != record.financier

    def release_exposure(self, data: st.DataObject) -> None:
        due = [t for t in self._releasable() if self._release_due(t)]
        self._release_exposure(self.rng.choice(due if due and self.rng.random() < 0.75 else self._releasable()))

    def release_what_is_due(self, data: st.DataObject) -> None:
        """A keeper releases exposure the desk no longer needs to count (repaid in full, burned or sold on): an
        action of its own, so that releases succeed often, not only the refusal of an early one."""
        self._release_exposure(self.rng.choice([t for t in self._releasable() if self._release_due(t)]))

    def _release_exposure(self, tid: int) -> None:
        record = self.records[tid]
        frag = self.fragments[tid]
        r = self.receivables[frag.slot]
        done = self._release_due(tid)
        refusal = None if done else refuse(ExposureStillOutstanding, financed_token_id=tid)
        if self._attempt("release_exposure", refusal, lambda: self.scf.financing.release_exposure(self.keeper, [tid])):
            self._release(tid, record, r.debtor, record.value)
        self._sync_clock()

    # ------------------------------------------------------------------------------------------- repayment

    def _repayable(self) -> list[Rec]:
        return [r for r in self.receivables.values() if r.state in (S.ACTIVE, S.MATURED, S.OVERDUE)]

    def repay(self, data: st.DataObject) -> None:
        self._repay(self.rng.choice(self._repayable()))

    def _late_payments_due(self) -> list[int]:
        """Bought-back fragments (in the desk's custody) of receivables the debtor has not paid in full."""
        return [t for t in self.custody if self.receivables[slot_of(t)].state is S.OVERDUE]

    def a_late_payment_after_a_buy_back(self, data: st.DataObject) -> None:
        """The debtor pays late after the seller bought a fragment back; the payment is passed on through the
        desk (to the seller, and to the financier for any value it had merged in)."""
        tid = self.rng.choice(self._late_payments_due())
        self._repay(self.receivables[slot_of(tid)], in_full=self.rng.random() < 0.5)
        self._redeem_recourse(tid)

    def _repay(self, r: Rec, *, in_full: bool = False) -> None:
        kind = 15 if in_full else self.rng.randint(0, 19)
        outstanding = r.face - r.repaid
        # Mostly in parts (debtors that pay in full at once leave nothing to go overdue), sometimes the rest.
        amount = (
            0
            if kind == 19
            else outstanding + 1
            if kind == 18
            else outstanding
            if kind >= 15
            else self.rng.randint(1, max(outstanding // 3, 1))
        )
        refusal = (
            refuse(ZeroRepayment, slot=r.slot)
            if amount == 0
            else refuse(RepaymentExceedsOutstanding, slot=r.slot, outstanding=outstanding, amount=amount)
            if amount > outstanding
            else None
        )
        debtor = self.accounts[r.debtor]
        if self._attempt("repay", refusal, lambda: self.scf.receivables.repay(debtor, r.slot, amount)) is not None:
            self._record_maturity(r)
            r.repaid += amount
            if r.repaid == r.face:
                r.state = S.REPAID
                self.credit_used[r.debtor] -= r.face
            self._move_cash(r.debtor, self.token, amount)
        self._sync_clock()

    def time_passes(self, data: st.DataObject) -> None:
        """A small step, or past a maturity, or past the end of a grace period."""
        kind = self.rng.randint(0, 5)
        upcoming = [r for r in self._open() if r.maturity > self.clock]
        in_grace = [r for r in self._open() if r.maturity <= self.clock < r.maturity + self.grace]
        if kind == 5 and in_grace:
            r = self.rng.choice(in_grace)
            target = r.maturity + self.grace + self.rng.randint(2 * MARGIN, 2 * DAY)
        elif kind >= 3 and upcoming:
            r = self.rng.choice(upcoming)
            target = r.maturity + (self.grace if kind == 4 else 0) + self.rng.randint(2 * MARGIN, 2 * DAY)
        else:
            target = self.clock + self.rng.randint(HOUR, 6 * DAY)
        target = self._safe_time(target)
        advance_time(self.w3, target - now(self.w3))
        # Most expired requests leave the book (a few stay to be tried and refused).
        self.requests = [s for s in self.requests if s.request.deadline > target or self.rng.random() < 0.2]
        self.outcomes["time_passes:ok"] += 1
        self._sync_clock()

    def mark_overdue(self, data: st.DataObject) -> None:
        due = [r for r in self._open() if r.state in (S.ACTIVE, S.MATURED) and self.clock >= r.maturity + self.grace]
        self._mark_overdue(self.rng.choice(due if due and self.rng.random() < 0.7 else self._open()))

    def _defaults_ahead(self) -> list[Rec]:
        """Receivables not yet overdue on which a financier still holds what it bought with recourse."""
        out = []
        for tid, rec in self.records.items():
            r = self.receivables[slot_of(tid)]
            open_recourse = rec.recourse and not rec.settled and self.fragments[tid].owner == rec.financier
            if open_recourse and r.state in (S.ACTIVE, S.MATURED) and r.repaid < r.face and r not in out:
                out.append(r)
        return out

    def a_debtor_defaults(self, data: st.DataObject) -> None:
        """The story recourse exists for: a receivable financed with recourse is not paid by the end of its grace
        period and is marked overdue. Random steps reach it rarely (the financier must still hold the fragment,
        the debtor must not have paid in full), so this action goes there directly."""
        r = self.rng.choice(self._defaults_ahead())
        target = self._safe_time(max(self.clock, r.maturity + self.grace) + self.rng.randint(2 * MARGIN, DAY))
        advance_time(self.w3, target - now(self.w3))
        self.requests = [s for s in self.requests if s.request.deadline > target or self.rng.random() < 0.2]
        self._sync_clock()
        self._mark_overdue(r)

    def _mark_overdue(self, r: Rec) -> None:
        refusal: Refusal | None
        if r.state not in (S.ACTIVE, S.MATURED):
            refusal = refuse(ReceivableNotActive, slot=r.slot, state=self._view_state(r))
        elif self.clock < r.maturity + self.grace:
            refusal = refuse(GracePeriodNotOver, slot=r.slot, overdue_from=r.maturity + self.grace)
        else:
            refusal = None
        if self._attempt("mark_overdue", refusal, lambda: self.scf.receivables.mark_overdue(self.keeper, r.slot)):
            r.state = S.OVERDUE
        self._sync_clock()

    def _redeemable_refusal(self, r: Rec) -> Refusal | None:
        if r.state not in (S.ACTIVE, S.MATURED, S.OVERDUE, S.REPAID):
            return refuse(ReceivableNotActive, slot=r.slot, state=r.state)
        if self.clock < r.maturity:
            return refuse(ReceivableNotMatured, slot=r.slot, maturity=r.maturity)
        return None

    def _pay(self, frag: Frag, r: Rec) -> tuple[int, bool]:
        """`_payFragment` on the model; returns (amount, burned)."""
        assert frag.owner is not None
        entitled = rules.entitled(frag.value, r.repaid, r.face)
        amount = entitled - frag.paid
        burned = entitled == frag.value
        owner = frag.owner
        if burned:
            r.redeemed += frag.value
            frag.owner, frag.value, frag.paid, frag.frozen = None, 0, 0, False
        else:
            frag.paid = entitled
        r.paid_out += amount
        self._move_cash(self.token, owner, amount)
        return amount, burned

    def redeem(self, data: st.DataObject) -> None:
        frag = self.rng.choice(self._holders())
        assert frag.owner is not None
        holder, r = self.accounts[frag.owner], self.receivables[frag.slot]
        refusal = (refuse(FragmentFrozen, token_id=frag.token_id) if frag.frozen else None) or self._redeemable_refusal(
            r
        )
        if refusal is None:
            entitled = rules.entitled(frag.value, r.repaid, r.face)
            if entitled == frag.paid and entitled != frag.value:
                refusal = refuse(NothingToRedeem, token_id=frag.token_id, entitled=frag.paid, paid=frag.paid)
            elif entitled != frag.paid:
                refusal = self._inactive(frag.owner)
        if self._attempt("redeem", refusal, lambda: self.scf.receivables.redeem(holder, frag.token_id)) is not None:
            self._record_maturity(r)
            self._pay(frag, r)
        self._sync_clock()

    def _settleable(self) -> list[Rec]:
        return [r for r in self.receivables.values() if r.state in (S.ACTIVE, S.MATURED, S.OVERDUE, S.REPAID)]

    def settle(self, data: st.DataObject) -> None:
        """A keeper pays a page of fragments: the unfrozen ones whose holders can take cash."""
        include_frozen = self.rng.randint(0, 9)
        r = self.rng.choice(self._settleable())
        frags = [f for f in self._live_of(r.slot) if not f.frozen and f.owner is not None and self._active(f.owner)]
        frozen = [f for f in self._live_of(r.slot) if f.frozen]
        if include_frozen == 9 and frozen:
            frags = [*frags, frozen[0]]
        refusal = self._redeemable_refusal(r)
        if refusal is None and include_frozen == 9 and frozen:
            refusal = refuse(FragmentFrozen, token_id=frozen[0].token_id)
        ids = [f.token_id for f in frags]
        if self._attempt("settle", refusal, lambda: self.scf.receivables.settle(self.keeper, r.slot, ids)) is not None:
            self._record_maturity(r)
            for f in frags:
                self._pay(f, r)
        self._sync_clock()

    # ------------------------------------------------------------------------------------------- recourse

    def _recourse_records(self) -> list[int]:
        return [t for t, rec in self.records.items() if rec.recourse]

    def _recourse_common(self, tid: int) -> Refusal | None:
        record = self.records[tid]
        if not record.recourse:
            return refuse(NoRecourse, financed_token_id=tid)
        if record.settled:
            return refuse(RecourseUnavailable, financed_token_id=tid)
        return None

    def _recourse_due(self, tid: int) -> tuple[Refusal | None, int]:
        record, frag = self.records[tid], self.fragments[tid]
        r = self.receivables[frag.slot]
        if r.state is not S.OVERDUE:
            return refuse(ReceivableNotOverdue, slot=r.slot, state=self._view_state(r)), 0
        if frag.owner is None:
            return refuse(NonexistentToken, token_id=tid), 0
        if frag.owner != record.financier:
            return refuse(RecourseEnded, financed_token_id=tid, holder=frag.owner), 0
        return None, rules.recourse_due(record.value, frag.value, r.repaid, r.face)

    def claim_recourse(self, data: st.DataObject) -> None:
        wrong = self.rng.randint(0, 9)
        overdue = [t for t in self._recourse_records() if self.receivables[slot_of(t)].state is S.OVERDUE]
        tid = self.rng.choice(overdue if overdue and self.rng.random() < 0.8 else self._recourse_records())
        record = self.records[tid]
        caller = self.accounts[record.financier]
        if wrong == 9:
            caller = next(f for f in self.financiers if f.address != record.financier)
        refusal = self._recourse_common(tid)
        if refusal is None and caller.address != record.financier:
            refusal = refuse(NotAuthorized, caller=caller.address, expected=record.financier)
        if refusal is None and record.claim != 0:
            refusal = refuse(RecourseUnavailable, financed_token_id=tid)
        due = 0
        if refusal is None:
            refusal, due = self._recourse_due(tid)
            if refusal is None and due == 0:
                refusal = refuse(RecourseUnavailable, financed_token_id=tid)
        if self._attempt("claim_recourse", refusal, lambda: self.scf.financing.claim_recourse(caller, tid)):
            record.claim = due
            self._sync_clock()
            if self.rng.random() < 0.7:  # the story goes on: most sellers settle a claim soon after it is made
                self._settle_recourse(tid)
        self._sync_clock()

    def settle_recourse(self, data: st.DataObject) -> None:
        self._settle_recourse(
            self.rng.choice([t for t in self.records if self.records[t].claim and not self.records[t].settled])
        )

    def _settle_recourse(self, tid: int) -> None:
        record, frag = self.records[tid], self.fragments[tid]
        r = self.receivables[frag.slot]
        seller = self.accounts[record.seller]
        refusal = self._recourse_common(tid) or self._redeemable_refusal(r)
        if refusal is None and frag.owner is None:
            refusal = None  # burned: settle skips it; the state check below refuses (paid in full = Repaid)
        elif refusal is None and frag.frozen:
            refusal = refuse(FragmentFrozen, token_id=tid)
        owed = 0
        if refusal is None and frag.owner is not None:
            owed = rules.owed(frag.value, frag.paid, r.repaid, r.face)
            if owed:
                refusal = self._inactive(frag.owner)
        due = 0
        if refusal is None:
            refusal, due = self._recourse_due(tid)
        if refusal is None:
            refusal = self._cash_refusal(record.seller, record.financier)
        if self._attempt("settle_recourse", refusal, lambda: self.scf.financing.settle_recourse(seller, tid)):
            self._record_maturity(r)
            paid_before = rules.entitled(frag.value, r.repaid, r.face)
            self._pay(frag, r)
            assert frag.owner is not None
            self.custody[tid] = Custody(frag.value, paid_before, due)
            record.settled = True
            if not record.released:
                self._release(tid, record, r.debtor, record.value)
            frag.owner = self.desk
            self._move_cash(record.seller, record.financier, due)
            self._sync_clock()
            if self.rng.random() < 0.6:  # the story goes on: the debtor pays late, the desk passes it on
                self._repay(r, in_full=self.rng.random() < 0.5)
                self._redeem_recourse(tid)
        self._sync_clock()

    def redeem_recourse(self, data: st.DataObject) -> None:
        held = sorted(self.custody)
        self._redeem_recourse(
            self.rng.choice(
                held if held and self.rng.random() < 0.85 else sorted(set(self.custody) | set(self.records))
            )
        )

    def _redeem_recourse(self, tid: int) -> None:
        c = self.custody.get(tid)
        frag = self.fragments[tid]
        r = self.receivables[frag.slot]
        record = self.records.get(tid)
        refusal = refuse(NotInCustody, financed_token_id=tid) if c is None else None
        if c is not None and frag.owner is not None:
            refusal = (refuse(FragmentFrozen, token_id=tid) if frag.frozen else None) or self._redeemable_refusal(r)
        to_seller = to_financier = 0
        if refusal is None and c is not None and record is not None:
            received = rules.entitled(c.fragment_value, r.repaid, r.face) - c.paid_before
            if received == c.distributed:
                refusal = refuse(NothingToDistribute, financed_token_id=tid)
            else:
                to_seller, to_financier = rules.custody_shares(
                    received, c.fragment_value, c.paid_before, c.seller_share, c.distributed, c.paid_to_seller
                )
                if to_seller:
                    refusal = self._inactive(record.seller)
                if to_financier and refusal is None:
                    refusal = self._inactive(record.financier)
        out = self._attempt("redeem_recourse", refusal, lambda: self.scf.financing.redeem_recourse(self.keeper, tid))
        if out is not None:
            assert c is not None
            assert record is not None
            assert (out.to_seller, out.to_financier) == (to_seller, to_financier)
            if frag.owner is not None:
                self._record_maturity(r)
                self._pay(frag, r)
            c.distributed += to_seller + to_financier
            c.paid_to_seller += to_seller
            self._move_cash(self.desk, record.seller, to_seller)
            self._move_cash(self.desk, record.financier, to_financier)
        self._sync_clock()

    # ------------------------------------------------------------------------------------------- one rule
    # One rule draws the action, so every example can reach every action: Hypothesis's stateful runner would
    # otherwise switch whole rules off at random per example ("swarm testing"), and recourse needs many in turn.

    @initialize(seed=st.integers(0, 2**32 - 1))
    def seed_the_choice_of_actions(self, seed: int) -> None:
        self.rng = random.Random(seed)

    @rule(data=st.data())
    def step(self, data: st.DataObject) -> None:
        """The action and its arguments come from a generator seeded once per example (Hypothesis draws the
        seed; fixed in CI), so that actions, defects and amounts come in the proportions written here:
        Hypothesis's own draws favour boundary values and repeat one choice for long runs, which starves the
        paths that need many steps in turn (financing, then overdue, then recourse)."""
        type(self).steps += 1
        possible = [(name, weight) for name, ready, weight in ACTIONS if ready(self)]
        (name,) = self.rng.choices([n for n, _ in possible], weights=[w for _, w in possible])
        getattr(self, name)(data)

    # ------------------------------------------------------------------------------------------- invariants

    @invariant()
    def value_and_fragments_match(self) -> None:
        """Value conserves per receivable (live + redeemed = face); every fragment is the model's."""
        for r in self.receivables.values():
            if r.state in (S.REJECTED, S.CANCELLED):
                continue
            live_model = sum(f.value for f in self._live_of(r.slot))
            assert live_model + r.redeemed == r.face, "the model lost value"
            assert all(f.paid <= rules.entitled(f.value, r.repaid, r.face) for f in self._live_of(r.slot))
            if not self._read_chain():
                continue
            infos, claimables, _ = self.scf.receivables.contract.functions.fragmentsOf(r.slot, 1, 64).call()
            live = 0
            for seq, (info, claimable) in enumerate(zip(infos, claimables, strict=True), start=1):
                frag = self.fragments[token_id_of(r.slot, seq)]
                owner = None if int(info[0], 16) == 0 else info[0]
                assert (owner, info[1], info[4]) == (frag.owner, frag.value, frag.frozen), f"fragment {seq}: {frag}"
                live += info[1]
                if owner is not None:
                    model_claimable = rules.claimable(
                        frag.value, frag.paid, r.repaid, r.face, r.state, r.maturity, self.clock
                    )
                    assert claimable == model_claimable, f"fragment {seq}: claimable {claimable} != {model_claimable}"
                    assert frag.paid <= rules.entitled(frag.value, r.repaid, r.face)  # never paid beyond its share
            assert live + r.redeemed == r.face, f"receivable {r.slot:#x}: {live} + {r.redeemed} != {r.face}"
            got = self.scf.receivables.receivable(r.slot)
            assert (got.state, got.repaid, got.paid_out, got.redeemed_value, got.fragments_created) == (
                self._view_state(r),
                r.repaid,
                r.paid_out,
                r.redeemed,
                r.last_sequence,
            )

    @invariant()
    def cash_conserves(self) -> None:
        """Supply = the sum of balances; the token's escrow = repaid - paid out; the desk keeps only what it has
        yet to pay on; every balance is the model's."""
        assert sum(self.cash.values()) == self.supply
        if self._read_chain():
            assert self.scf.cash.total_supply() == self.supply
            for account, balance in self.cash.items():
                assert self.scf.cash.balance_of(account) == balance, f"cash of {account}"
        escrow = sum(r.repaid - r.paid_out for r in self.receivables.values())
        assert self.cash[self.token] == escrow
        pending = 0
        for tid, c in self.custody.items():
            frag = self.fragments[tid]
            paid_to_fragment = c.fragment_value if frag.owner is None else frag.paid
            pending += paid_to_fragment - c.paid_before - c.distributed
        assert self.cash[self.desk] == pending

    @invariant()
    def exposure_and_recourse_hold(self) -> None:
        """Exposure never exceeds a limit (unless the limit was lowered) and equals the open records; recourse
        exists only where sold with recourse, for at most the value sold."""
        for (financier, debtor), used in self.used.items():
            open_value = sum(
                rec.value
                for tid, rec in self.records.items()
                if rec.financier == financier and not rec.released and self.receivables[slot_of(tid)].debtor == debtor
            )
            assert used == open_value
            if self._read_chain():
                assert self.scf.financing.exposure(financier, debtor) == (self.limits[(financier, debtor)], used)
        for tid, rec in self.records.items():
            assert rec.recourse or (rec.seller == ZERO_ADDRESS and rec.claim == 0)
            if not self._read_chain():
                continue
            got = self.scf.financing.financing(tid)
            assert (got.financier, got.value, got.recourse, got.released, got.seller, got.recourse_claim) == (
                rec.financier,
                rec.value,
                rec.recourse,
                rec.released,
                rec.seller,
                rec.claim,
            ), f"record {tid:#x}"

    def _index_equals_chain(self) -> None:
        with tempfile.TemporaryDirectory() as folder:
            index = EventIndex(Path(folder) / "index.sqlite")
            Indexer(index, self.w3, self.scf.contracts).sync()
            differences = reconcile(index, self.scf)
            index.close()
        assert differences == [], f"the index differs from the chain: {differences[:5]}"


# (action, when it is possible, weight)
ACTIONS: list[tuple[str, Callable[[SystemMachine], bool], int]] = [
    ("issue", lambda self: len(self._open()) < MAX_OPEN and len(self._live()) < MAX_LIVE, 3),
    ("accept_or_reject", lambda self: bool(self._pending()), 4),
    ("split", lambda self: bool(self._holders()) and len(self._live()) < MAX_LIVE, 5),
    ("transfer", lambda self: bool(self._holders()), 3),
    ("freeze_or_unfreeze", lambda self: bool(self._live()), 2),
    ("suspend_or_reinstate", lambda self: True, 2),
    ("sign_request", lambda self: bool(self._holders()) and len(self.requests) < 12, 8),
    ("finance", lambda self: bool(self.requests), 8),
    ("cancel_request", lambda self: bool(self.requests), 1),
    ("set_exposure_limit", lambda self: True, 1),
    ("release_exposure", lambda self: bool(self._releasable()), 1),
    ("release_what_is_due", lambda self: any(self._release_due(t) for t in self._releasable()), 3),
    ("repay", lambda self: bool(self._repayable()), 4),
    ("time_passes", lambda self: bool(self._open()), 3),
    ("mark_overdue", lambda self: bool(self._open()), 2),
    ("redeem", lambda self: bool(self._holders()), 3),
    ("settle", lambda self: bool(self._settleable()), 3),
    ("a_debtor_defaults", lambda self: bool(self._defaults_ahead()), 4),
    ("a_late_payment_after_a_buy_back", lambda self: bool(self._late_payments_due()), 5),
    ("claim_recourse", lambda self: bool(self._recourse_records()), 3),
    (
        "settle_recourse",
        lambda self: any(self.records[t].claim and not self.records[t].settled for t in self.records),
        3,
    ),
    ("redeem_recourse", lambda self: bool(self.custody) or bool(self.records), 3),
]


@pytest.mark.slow
def test_whole_system_matches_model(w3: Web3, parties: Parties, scf: ScfClient) -> None:
    p = parties
    bank2 = new_account(w3)
    scf.membership.admit(p.operator, bank2.address, Role.FINANCIER)
    keeper = new_account(w3)  # sends keeper transactions; not a member
    members = [p.s1, p.s2, p.s3, p.s4, p.financier, bank2]
    for m in [*members, p.core, p.core2]:
        scf.cash.mint(p.operator, m.address, CASH)
    for m in members:
        scf.receivables.set_approval_for_all(m, scf.financing.address, True)
        scf.cash.approve(m, scf.financing.address, CASH)
    for core in (p.core, p.core2):
        scf.cash.approve(core, scf.receivables.address, CASH)
        for f in (p.financier, bank2):
            scf.financing.set_exposure_limit(f, core.address, LIMIT)
    SystemMachine.w3, SystemMachine.scf, SystemMachine.operator = w3, scf, p.operator
    SystemMachine.cores, SystemMachine.suppliers = [p.core, p.core2], [p.s1, p.s2, p.s3, p.s4]
    SystemMachine.financiers, SystemMachine.keeper = [p.financier, bank2], keeper
    SystemMachine.outcomes, SystemMachine.steps, SystemMachine.calls = Counter(), 0, 0
    machine = seed(int(SEED))(SystemMachine) if SEED else SystemMachine
    in_fresh_thread(lambda: run_state_machine_as_test(machine, settings=SETTINGS))
    # The chain's clock and what ran before on this worker's chain vary a run even on a fixed seed: should a
    # rare outcome still be unreached, explore on (at most three more rounds of ten examples, on fixed seeds)
    # rather than fail on a draw; an outcome the machine cannot reach still fails below.
    for extra in range(1, 4):
        if SOAK or not REQUIRED_OUTCOMES - set(SystemMachine.outcomes):
            break
        in_fresh_thread(
            partial(run_state_machine_as_test, seed(extra)(SystemMachine), settings=settings(SETTINGS, max_examples=10))
        )
        print(f"explored a further round of ten examples (seed {extra}) for the outcomes not yet reached")
    outcomes = SystemMachine.outcomes
    refusals = sorted({k.split(":")[1] for k in outcomes if k.startswith("any:")})
    print(
        f"\nwhole-system state machine: {SystemMachine.steps} steps, {SystemMachine.calls} contract calls, "
        f"{len(refusals)} distinct refusals: {refusals}"
    )
    for name, count in sorted(outcomes.items()):
        print(f"  {name:45} {count:6}")
    if not SOAK:
        assert SystemMachine.steps >= 2_000
        missing = REQUIRED_OUTCOMES - set(outcomes)
        assert not missing, f"never reached: {sorted(missing)}; reached: {dict(outcomes)}"
