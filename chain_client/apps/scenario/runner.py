"""Running a plan: deploy (or find the journal's deployment), then each step's operations in order, with a
progress bar over steps and transactions, recording each finished step in the journal."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from eth_account.signers.local import LocalAccount
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from web3 import Web3
from web3.contract import Contract

from chain_client.apps.scenario.executor import Executor, Pipeline
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
    under way when the last run stopped (on a node, every step up to the journal's `in_flight_to`): each of
    their operations checks the chain before sending.

    On a node, operations that need no answer before the next go out in windows that may span steps
    (`Pipeline`); a step is recorded as done once its last operation's receipt is in."""
    first = journal.data.steps_done
    uncertain = max(first, journal.data.in_flight_to or first) if resumed else -1
    pipe = Pipeline(executor) if executor.pipelines else None
    waiting: list[tuple[PlannedStep, Op]] = []  # in the window, in order, with the step each belongs to
    with _progress(plan, first, console) as bar:

        def send_window() -> None:
            if pipe is None or not waiting:
                return
            journal.in_flight(waiting[-1][0].number)
            done = 0

            def sent(op: Op) -> None:
                nonlocal done
                done += 1
                bar.sent(op)

            try:
                pipe.send(sent)
            except Exception as exc:
                step, op = waiting[min(done, len(waiting) - 1)]
                waiting.clear()
                raise StepFailed(step, op, exc) from exc
            last_step, last_op = waiting[-1]
            waiting.clear()
            # the steps before the window's last are complete; that one too if its last operation was in it
            number = last_step.number if last_op is last_step.ops[-1] else last_step.number - 1
            if number >= journal.data.steps_done:
                journal.step_done(number)
            journal.in_flight(None)

        for step in plan.steps[first:]:
            bar.start(step)
            resuming = resumed and step.number <= uncertain
            for op in step.ops:
                calls = None if pipe is None or resuming else pipe.calls_of(op)
                if calls is None or pipe is None or pipe.full:
                    send_window()
                    if calls is None and pipe is not None and not resuming:
                        calls = pipe.calls_of(op)  # the window is empty now: only the op's own needs count
                if calls is not None and pipe is not None:
                    pipe.add(op, calls)
                    waiting.append((step, op))
                    continue
                try:
                    executor.run(op, resuming=resuming)
                except Exception as exc:
                    raise StepFailed(step, op, exc) from exc
                bar.sent(op)
            if not waiting:
                journal.step_done(step.number)
            bar.finish(step)
        send_window()
        if plan.steps and journal.data.steps_done <= plan.steps[-1].number:
            journal.step_done(plan.steps[-1].number)


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
        TimeRemainingColumn(),  # the estimate: what is left at the rate so far
    )
    with Progress(*columns, console=console, transient=False) as progress:
        yield _Bar(progress, plan, first)
