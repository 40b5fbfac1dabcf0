"""`chain_client.rules`, the Python home of the contract's money rules: first as a table of cases, then
against ReceivableToken itself over random histories (issue, accept or leave pending, split, partial
repayments before and after maturity, redemptions and settlements, freezes, overdue, time). After every step
`rules.claimable` equals the contract's `claimable(tokenId)` for every live fragment, and every payment is
what `rules.owed` / `rules.entitled` / `rules.paid_in_full` predict."""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from unittest.mock import ANY

import pytest
from eth_account.signers.local import LocalAccount
from hypothesis import seed, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test
from web3 import Web3

from chain_client import ContractError, ScfClient, rules
from chain_client.chain import revert_to, snapshot
from chain_client.contract_errors import (
    FragmentFrozen,
    GracePeriodNotOver,
    NothingToRedeem,
    ReceivableNotMatured,
)
from chain_client.devchain import advance_time, now
from chain_client.receivables import ReceivableState
from tests.conftest import DAY, Parties, doc_hash
from tests.refusals import assert_refused
from tests.test_invariants_stateful import in_fresh_thread

S = ReceivableState

# ----------------------------------------------------------------------------------------------- the table


@pytest.mark.parametrize(
    ("value", "repaid", "face", "expected"),
    [
        (40_000_00, 0, 100_000_00, 0),
        (40_000_00, 100_000_00, 100_000_00, 40_000_00),
        (1, 99, 100, 0),  # floor: a fen is never rounded up
        (33, 50, 100, 16),
        (0, 50, 100, 0),
    ],
)
def test_entitled_is_the_floor_of_the_pro_rata_share(value: int, repaid: int, face: int, expected: int) -> None:
    assert rules.entitled(value, repaid, face) == expected


@pytest.mark.parametrize(
    ("state", "now", "expected"),
    [
        (S.ACTIVE, 999, 0),  # repaid early: nothing before maturity
        (S.REPAID, 999, 0),  # repaid in full early: still nothing before maturity
        (S.ACTIVE, 1000, 30),  # maturity itself pays (block time >= maturity)
        (S.MATURED, 5000, 30),
        (S.OVERDUE, 5000, 30),
        (S.REPAID, 5000, 30),
        (S.PENDING, 5000, 0),
        (S.REJECTED, 5000, 0),
        (S.CANCELLED, 5000, 0),
        (S.NONE, 5000, 0),
    ],
)
def test_claimable_pays_only_from_maturity_in_a_paying_state(state: ReceivableState, now: int, expected: int) -> None:
    # value 100 of face 200, 100 repaid: entitled 50, of which 20 already paid
    assert rules.claimable(100, 20, 100, 200, state, 1000, now) == expected


def test_a_fragment_is_burned_when_its_share_is_all_of_its_value() -> None:
    assert rules.paid_in_full(50, 200, 200)
    assert not rules.paid_in_full(50, 199, 200)
    assert rules.paid_in_full(0, 0, 200)  # an empty fragment is burned on its first payment


def test_dust_is_what_rounding_keeps_in_escrow() -> None:
    assert rules.dust(100, 300, [100, 100, 100]) == 1  # three shares of 33
    assert rules.dust(300, 300, [100, 100, 100]) == 0


# ----------------------------------------------------------------------------------------------- the chain

HOUR = 3600
# The clock never stops within this distance of a maturity or of the end of a grace period, so which side of
# it the chain is on is never in doubt (each transaction moves the clock by about a second).
MARGIN = HOUR
MAX_FRAGMENTS = 8  # per receivable, to keep the per-step reads cheap
MAX_EXAMPLES = 40
STEPS_PER_EXAMPLE = 20
SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    stateful_step_count=STEPS_PER_EXAMPLE,
)
# Redemption twice as often as settlement, so that settlement does not pay everyone first.
ACTIONS = ("time_passes", "repay", "split", "redeem", "redeem", "settle", "freeze_or_unfreeze", "mark_overdue")
# Outcomes the run must reach, so that no comparison is vacuous. Derandomized, but the chain's clock and what
# ran before on the worker's chain still vary the run: each outcome is reached several times, not once.
REQUIRED_OUTCOMES = frozenset(
    {
        "repay:early",
        "repay:late",
        "split:ok",
        # Not "redeem:ok" (a redemption that pays part of a fragment): whether the run draws one depends on the
        # wall clock it starts at (a CI run on 2026-12-02 reached none in 40 examples). Partial redemption is
        # asserted deterministically in test_repayment.py (partial payment, overdue, late payments).
        "redeem:burned",
        "redeem:ReceivableNotMatured",
        "redeem:NothingToRedeem",
        "settle:ok",
        "overdue:ok",
        "claimable:paying",  # a non-zero claim compared
        "claimable:repaid-before-maturity",  # a share repaid early, claimable 0 on both sides
        "claimable:pending",
        "claimable:frozen",
    }
)


@dataclass
class Rec:
    slot: int
    face: int
    maturity: int
    state: ReceivableState  # as the chain said at the last check, and as the steps since then changed it
    repaid: int = 0
    values: dict[int, int] = field(default_factory=dict)  # every fragment ever: burned ones at their last value
    owners: dict[int, str] = field(default_factory=dict)
    paid: dict[int, int] = field(default_factory=dict)
    burned: set[int] = field(default_factory=set)
    frozen: set[int] = field(default_factory=set)

    def live(self) -> list[int]:
        return sorted(t for t in self.values if t not in self.burned)


class RulesMachine(RuleBasedStateMachine):
    w3: Web3
    scf: ScfClient
    p: Parties
    outcomes: Counter[str]
    examples: int = 0

    def __init__(self) -> None:
        super().__init__()
        self.snap = snapshot(self.w3)
        self.recs: list[Rec] = []
        self.grace = self.scf.receivables.grace_period()
        type(self).examples += 1

    def teardown(self) -> None:
        revert_to(self.w3, self.snap)

    def holders(self) -> list[LocalAccount]:
        return [self.p.s1, self.p.s2, self.p.s3, self.p.s4]

    def account(self, address: str) -> LocalAccount:
        return next(a for a in self.holders() if a.address == address)

    def pick(self, index: int) -> Rec:
        """One of the accepted receivables (the pending one is only compared, never acted on)."""
        accepted = self.recs[:-1]
        return accepted[index % len(accepted)]

    def refused(self, name: str, error: type[ContractError], action: Callable[[], object]) -> None:
        """`action` must fail with exactly `error` (whatever its fields) and change no contract's state."""
        assert_refused(self.scf, error, action, **dict.fromkeys(error.fields, ANY))
        self.outcomes[f"{name}:{error.__name__}"] += 1

    @initialize(
        receivables=st.lists(st.tuples(st.integers(1, 10**9), st.integers(2, 10)), min_size=1, max_size=2),
    )
    def issue(self, receivables: list[tuple[int, int]]) -> None:
        rt, p = self.scf.receivables, self.p
        total = sum(face for face, _ in receivables)
        self.scf.cash.mint(p.operator, p.core.address, total)
        self.scf.cash.approve(p.core, rt.address, total)
        # The last one is left pending, so that a fragment outside the paying states is compared too.
        for index, (face, days) in enumerate([*receivables, (1_000_00, 20)]):
            maturity = now(self.w3) + days * DAY + DAY // 2
            issued = rt.issue(p.core, p.s1.address, face, maturity, doc_hash())
            pending = index == len(receivables)
            if not pending:
                rt.accept(p.s1, issued.token_id)
            rec = Rec(issued.slot, face, maturity, S.PENDING if pending else S.ACTIVE)
            rec.values[issued.token_id] = face
            rec.owners[issued.token_id] = rt.owner_of(issued.token_id)
            rec.paid[issued.token_id] = 0
            self.recs.append(rec)
        # Each supplier first pays a supplier of its own with half its voucher, so that every history shares a
        # receivable among several holders from the start (later splits wait on a clock that may be past maturity).
        for index in range(len(receivables)):
            self.split(index, 0, 50, 1 + index)

    # ------------------------------------------------------------------------------------------- steps

    # One rule that picks the action: Hypothesis's swarm testing switches whole rules off per example, and with
    # ten examples it would leave redemption (which needs time, repayment and redeem together) unreached.
    @rule(
        action=st.sampled_from(ACTIONS),
        index=st.integers(0, 1),
        pick=st.integers(0, 10**6),
        percent=st.integers(1, 100),
        to=st.integers(0, 3),
        hours=st.integers(1, 20 * 24),
    )
    def step(self, action: str, index: int, pick: int, percent: int, to: int, hours: int) -> None:
        if action == "time_passes":
            self.time_passes(hours)
        elif action == "repay":
            self.repay(index, percent)
        elif action == "split":
            self.split(index, pick, min(percent, 99), to)
        elif action == "redeem":
            self.redeem(index, pick, wait=hours % 4 == 0)
        elif action == "settle":
            self.settle(index)
        elif action == "freeze_or_unfreeze":
            self.freeze_or_unfreeze(index, pick)
        else:
            self.mark_overdue(index, wait=hours % 2 == 0)

    def time_passes(self, hours: int) -> None:
        target = now(self.w3) + hours * HOUR
        edges = [b for r in self.recs for b in (r.maturity, r.maturity + self.grace)]
        while any(abs(target - b) < MARGIN for b in edges):
            target += MARGIN
        advance_time(self.w3, target - now(self.w3))

    def repay(self, index: int, share: int) -> None:
        rec = self.pick(index)
        if rec.state not in (S.ACTIVE, S.MATURED, S.OVERDUE) or rec.repaid == rec.face:
            return
        outstanding = rec.face - rec.repaid
        amount = outstanding if share > 50 else max(1, outstanding * share // 50)  # half the time, all of it
        self.scf.receivables.repay(self.p.core, rec.slot, amount)
        rec.repaid += amount
        if rec.repaid == rec.face:
            rec.state = S.REPAID
        self.outcomes["repay:early" if now(self.w3) < rec.maturity else "repay:late"] += 1

    def split(self, index: int, pick: int, percent: int, to: int) -> None:
        rec = self.pick(index)
        live = [t for t in rec.live() if t not in rec.frozen]
        before_maturity = now(self.w3) + MARGIN < rec.maturity
        if rec.state is not S.ACTIVE or not before_maturity or not live or len(rec.values) >= MAX_FRAGMENTS:
            return
        token = live[pick % len(live)]
        amount = rec.values[token] * percent // 100
        if amount == 0:
            return
        holder = self.holders()[to].address
        (new_id,) = self.scf.receivables.transfer_value(
            self.account(rec.owners[token]), token, holder, amount
        ).new_token_ids
        rec.values[token] -= amount
        rec.values[new_id], rec.owners[new_id], rec.paid[new_id] = amount, holder, 0
        self.outcomes["split:ok"] += 1

    def redeem(self, index: int, pick: int, wait: bool) -> None:
        """A holder redeems: now and then it first waits for maturity (as holders do), so that redemptions
        that pay are reached often on whatever clock the run starts from."""
        rec = self.pick(index)
        live = rec.live()
        if not live:
            return
        if wait and now(self.w3) + MARGIN < rec.maturity:
            self.time_passes((rec.maturity - now(self.w3)) // HOUR + 2)
        unfrozen = [t for t in live if t not in rec.frozen]
        # Mostly a holder whose fragment is not frozen: the refusal of a frozen one is reached often anyway.
        choices = unfrozen if unfrozen and pick % 4 else live
        token = choices[pick % len(choices)]
        rt = self.scf.receivables
        holder = self.account(rec.owners[token])
        state = rec.state
        if token in rec.frozen:
            self.refused("redeem", FragmentFrozen, lambda: rt.redeem(holder, token))
            return
        if not rules.is_redeemable(state, rec.maturity, now(self.w3) + 1):  # the next block is a second later
            self.refused("redeem", ReceivableNotMatured, lambda: rt.redeem(holder, token))
            return
        value, paid = rec.values[token], rec.paid[token]
        owed = rules.owed(value, paid, rec.repaid, rec.face)
        full = rules.paid_in_full(value, rec.repaid, rec.face)
        if owed == 0 and not full:
            self.refused("redeem", NothingToRedeem, lambda: rt.redeem(holder, token))
            return
        before = self.scf.cash.balance_of(holder.address)
        done = rt.redeem(holder, token)
        assert done.paid == owed == self.scf.cash.balance_of(holder.address) - before
        assert paid + done.paid == rules.entitled(value, rec.repaid, rec.face)  # what redeem pays, in total
        assert (token in done.burned) == full
        rec.paid[token] += done.paid
        if full:
            rec.burned.add(token)
        self.outcomes["redeem:burned" if full else "redeem:ok"] += 1

    def settle(self, index: int) -> None:
        rec = self.pick(index)
        if not rules.is_redeemable(rec.state, rec.maturity, now(self.w3) + 1):
            return
        tokens = [t for t in rec.live() if t not in rec.frozen]
        expected = {t: rules.owed(rec.values[t], rec.paid[t], rec.repaid, rec.face) for t in tokens}
        full = {t for t in tokens if rules.paid_in_full(rec.values[t], rec.repaid, rec.face)}
        done = self.scf.receivables.settle(self.p.s4, rec.slot, tokens)
        assert done.paid == sum(expected.values())
        assert set(done.burned) == full
        for t in tokens:
            rec.paid[t] += expected[t]
        rec.burned |= full
        self.outcomes["settle:ok"] += 1

    def freeze_or_unfreeze(self, index: int, pick: int) -> None:
        rec = self.pick(index)
        live = rec.live()
        if not live:
            return
        if rec.frozen:  # one frozen fragment at a time, so that most redemptions go through
            token = rec.frozen.pop()
            self.scf.receivables.unfreeze(self.p.operator, token)
        else:
            token = live[pick % len(live)]
            self.scf.receivables.freeze(self.p.operator, token)
            rec.frozen.add(token)

    def mark_overdue(self, index: int, wait: bool) -> None:
        """A keeper marks a receivable overdue: half the time it first waits out the grace period (without that,
        the rare case of time having passed maturity and grace with the debt unpaid is reached only now and
        then, and the run must reach it on whatever chain and clock it starts from)."""
        rec = self.pick(index)
        if rec.state not in (S.ACTIVE, S.MATURED):
            return
        overdue_from = rec.maturity + self.grace
        if wait and now(self.w3) + MARGIN < overdue_from:
            self.time_passes((overdue_from - now(self.w3)) // HOUR + 2)
        if now(self.w3) + MARGIN < overdue_from:
            self.refused("overdue", GracePeriodNotOver, lambda: self.scf.receivables.mark_overdue(self.p.s4, rec.slot))
            return
        self.scf.receivables.mark_overdue(self.p.s4, rec.slot)
        rec.state = S.OVERDUE
        self.outcomes["overdue:ok"] += 1

    # ------------------------------------------------------------------------------------------- the check

    @invariant()
    def claimable_is_the_contracts(self) -> None:
        rt = self.scf.receivables
        at = now(self.w3)  # a view runs at the latest block's time
        for rec in self.recs:
            info = rt.receivable(rec.slot)
            assert info.repaid == rec.repaid
            rec.state = info.state
            for t in rec.live():
                ours = rules.claimable(rec.values[t], rec.paid[t], rec.repaid, rec.face, info.state, rec.maturity, at)
                assert ours == rt.claimable(t), f"fragment {t:#x} in {info.state.name}"
                if ours:
                    self.outcomes["claimable:paying"] += 1
                elif not rules.is_paying(info.state):
                    self.outcomes["claimable:pending"] += 1
                elif at < rec.maturity and rules.entitled(rec.values[t], rec.repaid, rec.face):
                    self.outcomes["claimable:repaid-before-maturity"] += 1
                if ours and t in rec.frozen:
                    self.outcomes["claimable:frozen"] += 1  # the view ignores a freeze; redeem refuses it
            # Escrow holds every fragment's unpaid share plus the rounding dust.
            unpaid = sum(rules.owed(v, rec.paid[t], rec.repaid, rec.face) for t, v in rec.values.items())
            assert info.escrow == unpaid + rules.dust(rec.repaid, rec.face, rec.values.values())


def test_rules_match_the_contracts_views_over_random_histories(w3: Web3, parties: Parties, scf: ScfClient) -> None:
    RulesMachine.w3, RulesMachine.scf, RulesMachine.p = w3, scf, parties
    RulesMachine.outcomes, RulesMachine.examples = Counter(), 0
    started = time.monotonic()
    seed_env = os.environ.get("SCF_SEED")  # SCF_SEED=n: the same run on seed n, to see the outcomes hold on any
    machine = seed(int(seed_env))(RulesMachine) if seed_env else RulesMachine
    in_fresh_thread(lambda: run_state_machine_as_test(machine, settings=SETTINGS))
    elapsed = time.monotonic() - started
    print(f"rules vs contract: {RulesMachine.examples} examples in {elapsed:.1f} s; {dict(RulesMachine.outcomes)}")
    missing = REQUIRED_OUTCOMES - set(RulesMachine.outcomes)
    assert not missing, f"never reached: {sorted(missing)}; reached: {dict(RulesMachine.outcomes)}"


def test_recourse_due_is_the_unpaid_part_of_the_value_sold_with_recourse_still_held() -> None:
    assert rules.recourse_due(100_000_00, 25_000_00, 0, 1_000_000_00) == 25_000_00  # capped at what is held
    assert rules.recourse_due(100_000_00, 500_000_00, 400_000_00, 1_000_000_00) == 60_000_00  # capped at the sale


def test_custody_shares_add_up_to_the_sellers_share_exactly_when_paid_in_full() -> None:
    """Fragment 300,000 taken at 10 % paid (30,000): the seller bought back 90,000 of the 270,000 to come."""
    value, before, share = 300_000_00, 30_000_00, 90_000_00
    distributed = to_seller_total = 0
    for received in (89_100_01, 212_400_00, value - before):  # cumulative, odd amounts on the way
        to_seller, to_financier = rules.custody_shares(received, value, before, share, distributed, to_seller_total)
        assert min(to_seller, to_financier) >= 0
        distributed, to_seller_total = received, to_seller_total + to_seller
    assert (to_seller_total, distributed - to_seller_total) == (share, value - before - share)
