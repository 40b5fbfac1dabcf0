"""The invariants checked at the end of a run, each against the chain itself:

- value conservation: for every receivable, live fragment values plus the value redeemed equal its face value
  (a rejected receivable has no live fragment);
- cash conservation: the settlement token's supply equals the sum of all balances; every balance equals the
  balance replayed from the token's transfer events and the one the dry run predicted to the fen (the financing
  desk's too: nothing, since it passes on what its custody receives in the same step); the receivable token's
  escrow holds exactly what was repaid and not yet paid out;
- index equals chain: the event index (chain_client.index), built from the run's events, reconciles with the
  chain's state without a single difference;
- the run went as planned: every receivable's state and repayments, and every live fragment's holder and value,
  are those of the dry run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from web3 import Web3

from chain_client.apps.scenario.accounts import Accounts
from chain_client.apps.scenario.ledger import Ledger
from chain_client.apps.scenario.plan import Plan
from chain_client.apps.scenario.world import DESK
from chain_client.client import ScfClient
from chain_client.ids import sequence_of
from chain_client.index import EventIndex, Indexer, reconcile
from chain_client.money import format_fen
from chain_client.reads import call_all
from chain_client.receivables import ReceivableState
from chain_client.words import counted

MAX_FAILURES_SHOWN = 10
_STATES = {
    ReceivableState.PENDING: {ReceivableState.PENDING},
    ReceivableState.ACTIVE: {ReceivableState.ACTIVE, ReceivableState.MATURED},
    ReceivableState.OVERDUE: {ReceivableState.OVERDUE},
    ReceivableState.REPAID: {ReceivableState.REPAID},
    ReceivableState.REJECTED: {ReceivableState.REJECTED},
}


@dataclass
class Check:
    name: str
    detail: str = ""
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0  # how long it took (a large run's timings name each check)

    @property
    def passed(self) -> bool:
        return not self.failures

    def fail(self, message: str) -> None:
        self.failures.append(message)


def run_checks(
    w3: Web3, scf: ScfClient, plan: Plan, accounts: Accounts, ledger: Ledger, start_block: int
) -> list[Check]:
    checks: tuple[Callable[[], Check], ...] = (
        lambda: value_conservation(scf, plan),
        lambda: cash_conservation(scf, plan, accounts, ledger),
        lambda: index_equals_chain(w3, scf, start_block),
        lambda: as_planned(scf, plan, accounts),
    )
    out = []
    for run in checks:
        started = time.monotonic()
        check = run()
        check.seconds = time.monotonic() - started
        out.append(check)
    return out


def value_conservation(scf: ScfClient, plan: Plan) -> Check:
    check = Check("value conservation")
    fragments = 0
    for name, slot in plan.receivables.items():
        info = scf.receivables.receivable(slot)
        live = scf.receivables.fragments_of(slot)
        fragments += len(live)
        total = sum(f.value for f in live)
        if info.state in (ReceivableState.REJECTED, ReceivableState.CANCELLED):
            if live:
                check.fail(f"{name}: {info.state.name.lower()} but {len(live)} fragments are live")
        elif total + info.redeemed_value != info.face_value:
            check.fail(
                f"{name}: live {format_fen(total)} + redeemed {format_fen(info.redeemed_value)} "
                f"!= face {format_fen(info.face_value)}"
            )
    check.detail = (
        f"{counted(len(plan.receivables), 'receivable')}, {counted(fragments, 'live fragment')}: live + redeemed = face"
    )
    return check


def cash_conservation(scf: ScfClient, plan: Plan, accounts: Accounts, ledger: Ledger) -> Check:
    check = Check("cash conservation")
    cash = scf.cash
    desk = accounts.address(DESK)
    holders = sorted(set(ledger.cash) | {accounts.address(n) for n in plan.members})  # the desk, once cash reached it
    at = int(scf.w3.eth.block_number)
    read = call_all(scf.w3, [cash.contract.functions.balanceOf(h) for h in holders], block=at)  # in batches
    balances = {h: int(b) for h, b in zip(holders, read, strict=True)}
    supply = int(cash.contract.functions.totalSupply().call(block_identifier=at))
    if sum(balances.values()) != supply:
        check.fail(f"balances add up to {format_fen(sum(balances.values()))}, supply is {format_fen(supply)}")
    if ledger.minted != supply:
        check.fail(f"minted less burned is {format_fen(ledger.minted)}, supply is {format_fen(supply)}")
    for holder, balance in sorted(balances.items()):
        if ledger.cash.get(holder, 0) != balance:
            replayed = format_fen(ledger.cash.get(holder, 0))
            check.fail(f"{accounts.name_of(holder)}: {format_fen(balance)} on chain, {replayed} from its transfers")
    for name in (*plan.members, DESK):
        address = accounts.address(name)
        expected, actual = (
            plan.final.cash.get(name, 0),
            balances[address] if address in balances else cash.balance_of(address),
        )
        if expected != actual:
            check.fail(f"{name}: {format_fen(actual)} on chain, the dry run predicted {format_fen(expected)}")
    escrow = sum(
        (info := scf.receivables.receivable(slot)).repaid - info.paid_out for slot in plan.receivables.values()
    )
    held = balances.get(scf.receivables.address, cash.balance_of(scf.receivables.address))
    if held != escrow:
        check.fail(f"escrow holds {format_fen(held)}, repaid and not yet paid out is {format_fen(escrow)}")
    check.detail = (
        f"supply {format_fen(supply)} = the sum of {len(balances)} balances; each balance = its transfers = the dry "
        f"run; escrow {format_fen(held)} = repaid − paid out"
    )
    if desk in balances:  # fragments were bought back: what their custody received was passed on
        check.detail += f"; the desk holds {format_fen(balances[desk])}"
    del check.failures[MAX_FAILURES_SHOWN:]
    return check


def index_equals_chain(w3: Web3, scf: ScfClient, start_block: int) -> Check:
    check = Check("index equals chain")
    with EventIndex(":memory:") as index:
        report = Indexer(index, w3, scf.contracts, start_block=start_block).sync()
        differences = reconcile(index, scf)
        fragments = sum(r.fragments_created for r in index.receivables())
    check.failures = [str(d) for d in differences[:MAX_FAILURES_SHOWN]]
    if len(differences) > MAX_FAILURES_SHOWN:
        check.fail(f"... and {len(differences) - MAX_FAILURES_SHOWN} more differences")
    check.detail = f"{report.logs} events indexed, {fragments} fragments: {len(differences)} differences"
    return check


def as_planned(scf: ScfClient, plan: Plan, accounts: Accounts) -> Check:
    check = Check("chain matches the dry run")
    world = plan.final
    for name, slot in plan.receivables.items():
        model, info = world.receivables[slot], scf.receivables.receivable(slot)
        if info.state not in _STATES[model.state]:
            check.fail(f"{name}: {info.state.name.lower()} on chain, {model.state.word} in the dry run")
        if (info.repaid, info.paid_out) != (model.repaid, model.paid_out):
            check.fail(
                f"{name}: repaid/paid out {info.repaid}/{info.paid_out}, dry run {model.repaid}/{model.paid_out}"
            )
        chain = {f.token_id: (f.owner, f.value, f.frozen) for f in scf.receivables.fragments_of(slot)}
        want = {f.token_id: (accounts.address(f.holder), f.value, f.frozen) for f in world.live(slot)}
        for token_id in sorted(set(chain) | set(want)):
            if chain.get(token_id) != want.get(token_id):
                check.fail(f"{name} fragment #{sequence_of(token_id)}: {chain.get(token_id)} != {want.get(token_id)}")
    check.detail = "receivable states, repayments, and every live fragment's holder and value"
    del check.failures[MAX_FAILURES_SHOWN:]
    return check
