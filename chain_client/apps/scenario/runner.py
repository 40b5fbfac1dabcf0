"""Running a plan: deploy (or find the journal's deployment), then each step's operations in order, with a
progress bar over steps and transactions, recording each finished step in the journal."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from eth_account.signers.local import LocalAccount
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from web3 import Web3
from web3.contract import Contract

from chain_client.apps.scenario.executor import Executor
from chain_client.apps.scenario.journal import Journal
from chain_client.apps.scenario.ops import Op
from chain_client.apps.scenario.plan import Plan, PlannedStep
from chain_client.constants import DAY
from chain_client.deploy import DeploymentRecord, deploy_all, load_contracts, record_of
from chain_client.exceptions import ChainError

DESCRIPTION_WIDTH = 56  # characters of the current step's label beside the bar


class StepFailed(ChainError):
    """An operation of a step was refused by the chain (or did not go as planned)."""

    def __init__(self, step: PlannedStep, op: Op, cause: Exception) -> None:
        self.step = step
        self.op = op
        self.cause = cause
        name = type(cause).__name__
        super().__init__(f"step {step.number} ({step.label}) failed at {type(op).__name__}: {name}: {cause}")


def deployment(w3: Web3, operator: LocalAccount, plan: Plan, journal: Journal) -> dict[str, Contract]:
    """The journal's deployment, or a new one (recorded in the journal before anything else is sent to it)."""
    recorded = journal.data.deployment
    if recorded is not None:
        record = DeploymentRecord(journal.data.chain_id, journal.data.start_block, operator.address, recorded)
        return load_contracts(w3, record)
    contracts = deploy_all(w3, operator, max_tenor=plan.scenario.settings.tenor_cap_days * DAY)
    journal.deployed(record_of(w3, contracts, operator.address).addresses, int(w3.eth.block_number))
    return contracts


@dataclass(frozen=True)
class Totals:
    """What the run sent, from the chain's blocks: the plan's transactions (what the dry run and the progress bar
    count) and, apart, the deployment's."""

    transactions: int
    gas_used: int
    deploy_transactions: int
    deploy_gas: int


def totals(w3: Web3, journal: Journal) -> Totals:
    """Every transaction in the run's blocks (the run is the only sender it expects), the deployment's apart. A
    journal written before deployments were recorded by block counts the deployment with the run."""
    start = journal.data.start_block
    deployed = journal.data.deployed_block if journal.data.deployed_block is not None else start - 1
    counts = {True: [0, 0], False: [0, 0]}
    for number in range(start, int(w3.eth.block_number) + 1):
        block = w3.eth.get_block(number)
        sums = counts[number <= deployed]
        sums[0] += len(block["transactions"])
        sums[1] += int(block["gasUsed"])
    return Totals(counts[False][0], counts[False][1], counts[True][0], counts[True][1])


def execute(plan: Plan, executor: Executor, journal: Journal, *, resumed: bool, console: Console | None) -> None:
    """Send every step the journal does not record as done. The first of them, when `resumed`, may have been
    under way when the last run stopped: each of its operations checks the chain before sending."""
    first = journal.data.steps_done
    with _progress(plan, first, console) as bar:
        for step in plan.steps[first:]:
            bar.start(step)
            resuming = resumed and step.number == first
            for op in step.ops:
                try:
                    executor.run(op, resuming=resuming)
                except Exception as exc:
                    raise StepFailed(step, op, exc) from exc
                bar.sent(op)
            journal.step_done(step.number)
            bar.finish(step)


class _Bar:
    def __init__(self, progress: Progress | None, plan: Plan, first: int) -> None:
        self.progress = progress
        self.total = len(plan.steps) - 1  # the scenario's steps, as the dry run and the summary count them
        self.steps: TaskID | None = None
        self.txs: TaskID | None = None
        if progress is not None:
            done_txs = sum(op.transactions for step in plan.steps[:first] for op in step.ops)
            done_steps = max(first - 1, 0)  # step 0, the set-up, is not one of them
            self.steps = progress.add_task("set-up".ljust(DESCRIPTION_WIDTH), total=self.total, completed=done_steps)
            self.txs = progress.add_task(
                "transactions".ljust(DESCRIPTION_WIDTH), total=plan.transactions, completed=done_txs
            )

    def start(self, step: PlannedStep) -> None:
        if self.progress is not None and self.steps is not None:
            title = "set-up" if step.number == 0 else f"step {step.number}/{self.total}"
            self.progress.update(
                self.steps, description=f"{title}: {step.label}"[:DESCRIPTION_WIDTH].ljust(DESCRIPTION_WIDTH)
            )

    def sent(self, op: Op) -> None:
        if self.progress is not None and self.txs is not None:
            self.progress.advance(self.txs, op.transactions)

    def finish(self, step: PlannedStep) -> None:
        if self.progress is not None and self.steps is not None and step.number > 0:
            self.progress.advance(self.steps, 1)


@contextmanager
def _progress(plan: Plan, first: int, console: Console | None) -> Iterator[_Bar]:
    if console is None:
        yield _Bar(None, plan, first)
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(bar_width=30),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        yield _Bar(progress, plan, first)
