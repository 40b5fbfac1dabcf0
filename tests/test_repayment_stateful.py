"""A Hypothesis state machine for the money side: receivables split across holders, then partial and late
repayments, time moving, holders redeeming and keepers settling, in any order. After every step:

- no fragment was ever paid more than floor(value × repaid / face);
- per receivable, cash paid out never exceeds cash repaid, and escrow holds exactly the difference;
- live values + redeemed value = face value (rule 1), and the chain's totals equal the model's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from unittest.mock import ANY

from eth_account.signers.local import LocalAccount
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from web3 import Web3

from chain_client import ScfClient
from chain_client.chain import revert_to, snapshot
from chain_client.contract_errors import NothingToRedeem, ReceivableNotMatured
from chain_client.devchain import advance_time, now
from tests.conftest import DAY, Parties, doc_hash
from tests.refusals import assert_refused


@dataclass
class Model:
    slot: int
    face: int
    maturity: int
    repaid: int = 0
    values: dict[int, int] = field(default_factory=dict)  # token id -> value (fixed from maturity on)
    owners: dict[int, str] = field(default_factory=dict)
    paid: dict[int, int] = field(default_factory=dict)  # token id -> cash paid to it
    burned: set[int] = field(default_factory=set)


class RepaymentMachine(RuleBasedStateMachine):
    w3: Web3
    scf: ScfClient
    p: Parties

    def __init__(self) -> None:
        super().__init__()
        self.snap = snapshot(self.w3)
        self.models: list[Model] = []

    def teardown(self) -> None:
        revert_to(self.w3, self.snap)

    def holders(self) -> list[LocalAccount]:
        return [self.p.s1, self.p.s2, self.p.s3, self.p.s4]

    def account(self, address: str) -> LocalAccount:
        return next(a for a in self.holders() if a.address == address)

    @initialize(
        faces=st.lists(st.integers(min_value=1, max_value=10**9), min_size=1, max_size=3),
        splits=st.lists(st.tuples(st.integers(0, 3), st.integers(1, 99)), min_size=0, max_size=6),
    )
    def issue_and_spread(self, faces: list[int], splits: list[tuple[int, int]]) -> None:
        rt, p = self.scf.receivables, self.p
        total = sum(faces)
        self.scf.cash.mint(p.operator, p.core.address, total)
        self.scf.cash.approve(p.core, rt.address, total)
        for face in faces:
            maturity = now(self.w3) + 30 * DAY
            issued = rt.issue(p.core, p.s1.address, face, maturity, doc_hash())
            rt.accept(p.s1, issued.token_id)
            m = Model(issued.slot, face, maturity)
            m.values[issued.token_id] = face
            m.owners[issued.token_id] = p.s1.address
            for holder_index, percent in splits:
                source = issued.token_id
                amount = m.values[source] * percent // 100
                if amount == 0:
                    continue
                to = self.holders()[holder_index].address
                (new_id,) = rt.transfer_value(p.s1, source, to, amount).new_token_ids
                m.values[source] -= amount
                m.values[new_id] = amount
                m.owners[new_id] = to
            m.paid = dict.fromkeys(m.values, 0)
            self.models.append(m)

    # ------------------------------------------------------------------ steps

    @rule(days=st.integers(1, 20))
    def move_time(self, days: int) -> None:
        advance_time(self.w3, days * DAY)

    @rule(index=st.integers(0, 2), share=st.integers(1, 100))
    def repay_part(self, index: int, share: int) -> None:
        m = self.models[index % len(self.models)]
        outstanding = m.face - m.repaid
        if outstanding == 0:
            return
        amount = max(1, outstanding * share // 100)
        self.scf.receivables.repay(self.p.core, m.slot, amount)
        m.repaid += amount

    @rule(index=st.integers(0, 2), pick=st.integers(0, 10**6))
    def redeem(self, index: int, pick: int) -> None:
        m = self.models[index % len(self.models)]
        live = sorted(t for t in m.values if t not in m.burned)
        if not live:
            return
        token = live[pick % len(live)]
        owed = m.values[token] * m.repaid // m.face - m.paid[token]
        full = m.values[token] * m.repaid // m.face == m.values[token]
        holder = self.account(m.owners[token])
        if now(self.w3) + 1 < m.maturity:  # the next block is at least one second later
            assert_refused(
                self.scf,
                ReceivableNotMatured,
                lambda: self.scf.receivables.redeem(holder, token),
                slot=m.slot,
                maturity=m.maturity,
                now_time=ANY,
            )
            return
        if owed == 0 and not full:
            assert_refused(
                self.scf,
                NothingToRedeem,
                lambda: self.scf.receivables.redeem(holder, token),
                token_id=token,
                entitled=m.values[token] * m.repaid // m.face,
                paid=m.paid[token],
            )
            return
        before = self.scf.cash.balance_of(holder.address)
        result = self.scf.receivables.redeem(holder, token)
        assert result.paid == owed
        assert self.scf.cash.balance_of(holder.address) - before == owed
        m.paid[token] += owed
        if full:
            m.burned.add(token)

    @precondition(lambda self: any(now(self.w3) + 1 >= m.maturity for m in self.models))
    @rule(index=st.integers(0, 2))
    def settle_all(self, index: int) -> None:
        m = self.models[index % len(self.models)]
        if now(self.w3) + 1 < m.maturity:
            return
        tokens = sorted(m.values)
        result = self.scf.receivables.settle(self.p.s4, m.slot, tokens)
        expected = 0
        for t in tokens:
            if t in m.burned:
                continue
            entitled = m.values[t] * m.repaid // m.face
            expected += entitled - m.paid[t]
            m.paid[t] = entitled
            if entitled == m.values[t]:
                m.burned.add(t)
        assert result.paid == expected

    # ------------------------------------------------------------------ invariants

    @invariant()
    def money_is_conserved(self) -> None:
        rt = self.scf.receivables
        for m in self.models:
            info = rt.receivable(m.slot)
            paid_out = sum(m.paid.values())
            assert info.repaid == m.repaid
            assert info.paid_out == paid_out <= m.repaid  # total paid out ≤ total repaid
            assert info.escrow == m.repaid - paid_out
            for t, value in m.values.items():
                assert m.paid[t] <= value * m.repaid // m.face
            live = sum(v for t, v in m.values.items() if t not in m.burned)
            redeemed = sum(v for t, v in m.values.items() if t in m.burned)
            assert (info.redeemed_value, live + redeemed) == (redeemed, m.face)
            assert sum(f.value for f in rt.fragments_of(m.slot)) == live
        escrow = sum(m.repaid - sum(m.paid.values()) for m in self.models)
        assert self.scf.cash.balance_of(rt.address) == escrow


def test_repayment_state_machine(w3: Web3, parties: Parties, deployed: ScfClient) -> None:
    RepaymentMachine.w3, RepaymentMachine.scf, RepaymentMachine.p = w3, deployed, parties
    run_state_machine_as_test(
        RepaymentMachine,
        settings=settings(max_examples=20, stateful_step_count=20),
    )
