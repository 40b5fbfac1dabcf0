"""Re-running a scenario against the same chain resumes from its journal without repeating a step: a run that
stopped mid-step (before or after that step's transaction was mined) finishes with every invariant holding and
nobody paid, minted or financed twice; a finished run sends nothing; a journal that belongs to another chain or
to another version of the file is refused, with nothing sent."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from web3 import Web3

from chain_client import ScfClient, accounts_of, connect
from chain_client.apps.scenario import ops
from chain_client.apps.scenario.executor import Executor
from chain_client.apps.scenario.loader import ScenarioError
from chain_client.apps.scenario.runner import StepFailed
from chain_client.apps.scenario.session import Outcome, RunOptions, run_scenario
from chain_client.deploy import DeploymentRecord, load_contracts
from chain_client.receivables import ReceivableToken

ROOT = Path(__file__).resolve().parents[1]
LATE = ROOT / "scripts" / "scenarios" / "late_payment.yaml"


class Crash(Exception):
    """The process dies here (in the test: an exception the runner does not expect)."""


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    return Path(shutil.copy(LATE, tmp_path / "late_payment.yaml"))


def run(path: Path, w3: Web3, journal: Path) -> Outcome:
    return run_scenario(path, RunOptions(journal=journal, quiet=True), w3=w3)


def crash_at(monkeypatch: pytest.MonkeyPatch, kind: type[ops.Op], nth: int, *, after_sending: bool) -> None:
    """Make the `nth` operation of type `kind` crash, before or after its transactions are mined."""
    original: Callable[..., None] = Executor._send
    seen = 0

    def send(self: Executor, op: ops.Op, *, resuming: bool) -> None:
        nonlocal seen
        if isinstance(op, kind):
            seen += 1
            if seen == nth:
                if after_sending:
                    original(self, op, resuming=resuming)
                raise Crash(f"crashed {'after' if after_sending else 'before'} sending {op!r}")
        original(self, op, resuming=resuming)

    monkeypatch.setattr(Executor, "_send", send)


@pytest.mark.parametrize(
    ("kind", "nth", "after_sending"),
    [
        (ops.Mint, 2, True),  # during set-up
        (ops.Split, 1, False),
        (ops.Finance, 2, True),
        (ops.Repay, 2, True),
        (ops.SettleRecourse, 1, True),
        (ops.RedeemRecourse, 1, True),
        (ops.RedeemRecourse, 2, False),
    ],
)
def test_a_run_that_stopped_mid_step_resumes_without_repeating_anything(
    scenario: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: type[ops.Op], nth: int, after_sending: bool
) -> None:
    w3, journal = connect(), tmp_path / "run.journal.json"
    crash_at(monkeypatch, kind, nth, after_sending=after_sending)
    with pytest.raises(StepFailed) as failed:
        run(scenario, w3, journal)
    assert isinstance(failed.value.cause, Crash)
    monkeypatch.undo()

    outcome = run(scenario, w3, journal)

    assert outcome.stats.resumed_from == failed.value.step.number
    assert outcome.summary.passed, [c.failures for c in outcome.summary.checks]  # cash = the dry run, to the fen
    assert outcome.summary.financings == outcome.plan.count(ops.Finance) == 3
    assert outcome.scf.cash.total_supply() == sum(
        op.amount for s in outcome.plan.steps for op in s.ops if isinstance(op, ops.Mint)
    )


def test_a_run_that_stopped_between_repayment_and_settlement_settles_without_paying_again(
    scenario: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    w3, journal = connect(), tmp_path / "run.journal.json"
    original = ReceivableToken.settle
    calls = 0
    slots: list[object] = []

    def settle(self: ReceivableToken, *args: object, **kwargs: object) -> object:
        nonlocal calls
        calls += 1
        if calls == 1:
            slots.append(args[1])  # (keeper, slot, token ids): the slot is bound to the debtor's real address
            raise Crash("crashed after the repayment was mined, before its settlement")
        return original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ReceivableToken, "settle", settle)
    with pytest.raises(StepFailed):
        run(scenario, w3, journal)
    (slot,) = slots
    assert isinstance(slot, int)
    repaid_before = client_from_journal(w3, journal).receivables.receivable(slot).repaid
    monkeypatch.undo()

    outcome = run(scenario, w3, journal)

    assert repaid_before == 4_000_000_00  # the 40% at maturity was mined before the crash ...
    assert [r.on_time for r in outcome.summary.repayments] == [4_000_000_00]  # ... and not paid again
    assert outcome.summary.passed


def client_from_journal(w3: Web3, journal: Path) -> ScfClient:
    data = json.loads(journal.read_text())
    record = DeploymentRecord(data["chain_id"], data["start_block"], "", data["deployment"])
    return ScfClient(w3, load_contracts(w3, record))


def test_a_finished_run_sends_nothing_and_reports_again(scenario: Path, tmp_path: Path) -> None:
    w3, journal = connect(), tmp_path / "run.journal.json"
    first = run(scenario, w3, journal)
    block = w3.eth.block_number

    again = run(scenario, w3, journal)

    assert w3.eth.block_number == block
    assert again.stats.nothing_to_send
    assert again.summary.passed
    same = {"wall_seconds", "timings"}  # how long it took differs between runs
    assert again.summary.model_dump(exclude=same) == first.summary.model_dump(exclude=same)


def test_a_journal_for_another_file_version_operator_or_chain_is_refused(scenario: Path, tmp_path: Path) -> None:
    w3, journal = connect(), tmp_path / "run.journal.json"
    run(scenario, w3, journal)
    block = w3.eth.block_number

    scenario.write_text(scenario.read_text().replace('cash: "10,000,000.00"', 'cash: "11,000,000.00"'))
    with pytest.raises(ScenarioError) as err:
        run(scenario, w3, journal)
    assert "refused" in err.value.problems[0]
    assert "the file or the seed changed since" in err.value.problems[0]
    assert w3.eth.block_number == block

    shutil.copy(LATE, scenario)
    with pytest.raises(ScenarioError) as err:
        run_scenario(scenario, RunOptions(journal=journal, quiet=True), w3=w3, operator=accounts_of(w3)[1])
    assert "records a run by operator" in err.value.problems[0]
    assert w3.eth.block_number == block

    other = connect()
    other_block = other.eth.block_number
    with pytest.raises(ScenarioError) as err:
        run(scenario, other, journal)
    assert "refused" in err.value.problems[0]
    assert other.eth.block_number == other_block
