"""One run of a scenario file, start to end: read and check it, connect, plan (the dry run), deploy or resume,
send, read the chain's record back, check the invariants and summarise.

    outcome = run_scenario("scripts/scenarios/hubei_auto.yaml")            # embedded chain, no journal
    outcome.summary.passed, outcome.scf, outcome.record                    # e.g. to serve the lender API on it

Errors a user can fix (the file, the key, the journal) raise `ScenarioError` before anything is sent; a step the
chain refuses raises `StepFailed` (with a journal, running the same command again resumes from that step).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount
from rich.console import Console
from web3 import Web3

from chain_client.apps.scenario import ops
from chain_client.apps.scenario.accounts import Accounts
from chain_client.apps.scenario.checks import Check, run_checks
from chain_client.apps.scenario.executor import Executor
from chain_client.apps.scenario.generate import expand
from chain_client.apps.scenario.journal import Journal, JournalRefused
from chain_client.apps.scenario.ledger import Ledger, read_ledger
from chain_client.apps.scenario.loader import Problem, ScenarioError, Source, load
from chain_client.apps.scenario.plan import Plan, PlanError, build_plan, dry_run_address
from chain_client.apps.scenario.runner import deployment, execute, totals
from chain_client.apps.scenario.summary import Summarizer, Summary, check_rows
from chain_client.apps.scenario.world import DESK
from chain_client.chain import accounts_of, connect, is_embedded
from chain_client.client import ScfClient
from chain_client.deploy import DeploymentRecord
from chain_client.devchain import HARDHAT_CHAIN_ID, now

KEY_ENV = "SCF_OPERATOR_KEY"  # the same variable as the rest of `scf`


@dataclass
class RunOptions:
    rpc: str | None = None  # JSON-RPC URL; None: the embedded chain
    operator_key: str | None = None  # hex; default: $SCF_OPERATOR_KEY (needed with rpc)
    journal: Path | None = None  # default with rpc: ./<scenario>.journal.json; embedded: none
    seed: int | None = None
    quiet: bool = False


@dataclass
class RunStats:
    wall_seconds: float = 0.0
    check_seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)  # seconds per phase (`Summary.timings`)
    transactions: int = 0  # the plan's (set-up and steps), as the dry run and the progress bar count them
    gas_used: int = 0
    deploy_transactions: int = 0  # the contracts' deployment, apart
    deploy_gas: int = 0
    resumed_from: int | None = None  # the step a resumed run started at
    nothing_to_send: bool = False  # the journal said the run had finished


@dataclass
class Outcome:
    summary: Summary
    plan: Plan
    w3: Web3
    scf: ScfClient
    accounts: Accounts
    record: DeploymentRecord
    stats: RunStats = field(default_factory=RunStats)


def prepare(path: str | Path, seed: int | None = None) -> tuple[Source, Plan]:
    """Read, expand and dry-run `path` against the wall clock, with no chain at all (for `--dry-run`)."""
    source = load(path, seed=seed)
    source = _expanded(source)
    return source, _plan(source, int(time.time()))


def run_scenario(
    path: str | Path,
    options: RunOptions | None = None,
    *,
    w3: Web3 | None = None,
    operator: LocalAccount | None = None,
    console: Console | None = None,
) -> Outcome:
    """Run the scenario at `path` on `w3` (default: a new embedded chain, or `options.rpc`)."""
    options = options or RunOptions()
    console = console or Console(stderr=True)
    source = _expanded(load(path, seed=options.seed))
    w3 = w3 or (connect(options.rpc) if options.rpc else connect())
    operator = operator or _operator(w3, options)
    journal_path = options.journal or (Path(f"{source.path.stem}.journal.json") if options.rpc else None)
    seed = source.scenario.settings.seed
    try:
        existing = (
            Journal.resume(journal_path, w3, sha256=source.sha256, seed=seed, operator=operator.address)
            if journal_path
            else None
        )
    except JournalRefused as exc:
        raise ScenarioError([f"{source.path.name}: refused: {exc}"]) from None
    planning = time.monotonic()
    plan = _plan(source, existing.data.t0 if existing else now(w3))
    _check_clock(source, plan, w3)
    journal = existing or Journal.start(
        journal_path,
        w3,
        scenario=source.path.name,
        sha256=source.sha256,
        seed=seed,
        steps=len(plan.steps),
        t0=plan.t0,
        operator=operator.address,
    )
    accounts = Accounts(operator, journal.data.run_id, plan.members)
    # Slots are bound to the debtor's address: plan again with the members' real addresses.
    plan = _plan(source, plan.t0, accounts.address)
    stats = RunStats(resumed_from=journal.data.steps_done if existing else None)
    stats.timings["planning"] = time.monotonic() - planning
    stats.nothing_to_send = journal.data.finished

    started = time.monotonic()
    contracts = deployment(w3, operator, plan, journal)
    scf = ScfClient(w3, contracts)
    accounts.add_contract(DESK, scf.financing.address)  # the holder of fragments bought back under recourse
    execute(
        plan,
        Executor(w3, scf, accounts),
        journal,
        resumed=existing is not None,
        console=None if options.quiet else console,
    )
    stats.wall_seconds = stats.timings["sending"] = time.monotonic() - started

    checked = time.monotonic()
    start_block = journal.data.start_block
    ledger = read_ledger(w3, contracts, start_block)
    stats.timings["reading the ledger"] = time.monotonic() - checked
    checks = run_checks(w3, scf, plan, accounts, ledger, start_block)
    stats.timings.update((f"check: {c.name}", c.seconds) for c in checks)
    sent = totals(w3, journal)
    stats.transactions, stats.gas_used = sent.transactions, sent.gas_used
    stats.deploy_transactions, stats.deploy_gas = sent.deploy_transactions, sent.deploy_gas
    stats.check_seconds = time.monotonic() - checked
    record = DeploymentRecord(journal.data.chain_id, start_block, operator.address, journal.data.deployment or {})
    summarising = time.monotonic()
    summary = _summary(source, plan, accounts, ledger, checks, scf, w3, options, stats, record)
    summary.timings["summarising"] = round(time.monotonic() - summarising, 2)
    return Outcome(summary, plan, w3, scf, accounts, record, stats)


# ---------------------------------------------------------------------------------------------- helpers


def _expanded(source: Source) -> Source:
    try:
        scenario = expand(source.scenario)
    except ValueError as exc:
        raise ScenarioError([f"{source.path.name}: generate: {exc}"]) from None
    return Source(source.path, scenario, source.sha256, source.locator, source.file_steps)


def _plan(source: Source, t0: int, address_of: Callable[[str], str] = dry_run_address) -> Plan:
    try:
        return build_plan(source.scenario, t0=t0, address_of=address_of)
    except PlanError as exc:
        raise ScenarioError([source.describe(p) for p in exc.problems]) from None


def _operator(w3: Web3, options: RunOptions) -> LocalAccount:
    if options.rpc is None:
        return accounts_of(w3)[0]  # the embedded chain's first funded account
    text = options.operator_key or os.environ.get(KEY_ENV)
    if not text:
        raise ScenarioError([f"the operator's key is needed with --rpc: set {KEY_ENV} (or give --key-file)"])
    try:
        account: LocalAccount = Account.from_key(text.strip())
    except Exception:
        raise ScenarioError(["the operator key is not a 32-byte hex private key"]) from None
    return account


def _check_clock(source: Source, plan: Plan, w3: Web3) -> None:
    """Moving the clock is a development chain's privilege: refuse before sending anything elsewhere."""
    if is_embedded(w3) or w3.eth.chain_id == HARDHAT_CHAIN_ID:
        return
    for step in plan.steps:
        if any(isinstance(op, ops.Advance) for op in step.ops):
            problem = Problem(
                ("steps", step.number - 1, "advance"),
                f"moves the clock, which only a development chain allows (this is chain {w3.eth.chain_id})",
            )
            raise ScenarioError([source.describe(problem)])


def _summary(
    source: Source,
    plan: Plan,
    accounts: Accounts,
    ledger: Ledger,
    checks: list[Check],
    scf: ScfClient,
    w3: Web3,
    options: RunOptions,
    stats: RunStats,
    record: DeploymentRecord,
) -> Summary:
    states = {slot: scf.receivables.receivable(slot).state.name.lower() for slot in plan.receivables.values()}
    documents = {r.name: r.document for r in plan.scenario.receivables}
    s = Summarizer(plan, accounts, ledger)
    scenario = plan.scenario
    return Summary(
        scenario=scenario.name,
        description=scenario.description.strip(),
        chain="embedded eth-tester chain" if is_embedded(w3) else f"JSON-RPC node {options.rpc}",
        chain_id=record.chain_id,
        deployment=record.addresses,
        day_count=scenario.settings.day_count.value,
        started=time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(plan.t0)),
        wall_seconds=round(stats.wall_seconds, 2),
        steps=len(plan.steps) - 1,
        transactions=stats.transactions,
        operations=plan.operations,
        gas_used=stats.gas_used,
        deploy_transactions=stats.deploy_transactions,
        deploy_gas=stats.deploy_gas,
        financings=len(ledger.financings),
        tiers=s.tiers(),
        lenders=s.lenders(),
        repayments=s.repayments(states),
        trees=s.trees(states, documents),
        checks=check_rows(checks),
        timings={phase: round(seconds, 2) for phase, seconds in stats.timings.items()},
    )
