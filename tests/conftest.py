"""One embedded chain and one deployment per test session; every test runs on a snapshot that is reverted
afterwards, so tests are isolated and cheap."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from eth_account.signers.local import LocalAccount
from hypothesis import HealthCheck, settings
from web3 import Web3

from chain_client import Role, ScfClient, accounts_of, connect, deploy_all, new_account
from chain_client.chain import revert_to, snapshot, tester_of
from chain_client.devchain import now

if TYPE_CHECKING:
    from chain_client.apps.scenario.session import Outcome

DAY = 24 * 3600

# One Hypothesis profile for the suite. Against a chain an example takes milliseconds to seconds, so no deadline
# and no "too slow" health checks; CI runs are reproducible (derandomized, no example database under
# .hypothesis/). HYPOTHESIS_PROFILE=explore draws fresh examples instead. Tests set only what is their own
# (how many examples, how many steps).
settings.register_profile(
    "ci",
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
settings.register_profile("explore", settings.get_profile("ci"), derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
# Each core enterprise's credit line in the shared deployment: large enough that only tests about credit
# lines ever reach it.
CREDIT_LINE = 2**48 - 1


@dataclass
class Parties:
    operator: LocalAccount
    core: LocalAccount
    core2: LocalAccount
    s1: LocalAccount
    s2: LocalAccount
    s3: LocalAccount
    s4: LocalAccount
    financier: LocalAccount
    auditor: LocalAccount
    outsider: LocalAccount  # never admitted


@pytest.fixture(scope="session")
def w3() -> Web3:
    return connect()


@pytest.fixture(scope="session")
def parties(w3: Web3) -> Parties:
    g = accounts_of(w3)
    return Parties(g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], outsider=new_account(w3))


@pytest.fixture(scope="session")
def deployed(w3: Web3, parties: Parties) -> ScfClient:
    scf = ScfClient(w3, deploy_all(w3, parties.operator))
    p = parties
    admit = scf.membership.admit
    admit(p.operator, p.core.address, Role.CORE_ENTERPRISE)
    admit(p.operator, p.core2.address, Role.CORE_ENTERPRISE)
    for s in (p.s1, p.s2, p.s3, p.s4):
        admit(p.operator, s.address, Role.SUPPLIER)
    admit(p.operator, p.financier.address, Role.FINANCIER)
    admit(p.operator, p.auditor.address, Role.AUDITOR)
    for core in (p.core, p.core2):
        scf.receivables.set_credit_line(p.operator, core.address, CREDIT_LINE)
    return scf


@pytest.fixture
def scf(w3: Web3, deployed: ScfClient) -> Iterator[ScfClient]:
    """The deployment, on a snapshot reverted after the test."""
    # A revert leaves the latest block stamped in the past, and the next block takes the wall clock: mine one
    # now, so that `now(w3)` is within a second of the time the test's first transaction will see.
    tester_of(w3).mine_blocks(1)
    snap = snapshot(w3)
    try:
        yield deployed
    finally:
        revert_to(w3, snap)


def doc_hash() -> bytes:
    """A fresh document hash (what a trade's invoice, contract and delivery note hash to)."""
    return os.urandom(32)


@dataclass(frozen=True)
class Issued:
    slot: int
    token_id: int
    face_value: int
    maturity: int


def issue_active(
    scf: ScfClient,
    p: Parties,
    face_value: int = 1_000_000_00,
    *,
    tenor: int = 90 * DAY,
    supplier: LocalAccount | None = None,
) -> Issued:
    """Issue a receivable from `p.core` to `supplier` (default `p.s1`) and accept it."""
    holder = supplier or p.s1
    maturity = now(scf.w3) + tenor
    r = scf.receivables.issue(p.core, holder.address, face_value, maturity, doc_hash())
    scf.receivables.accept(holder, r.token_id)
    return Issued(r.slot, r.token_id, face_value, maturity)


@dataclass(frozen=True)
class ScenarioRun:
    """A scenario run as `scf scenario FILE --quiet --json OUT` runs it: its exit code, the JSON it wrote, and the
    `Outcome` behind them (the chain, the plan, the summary)."""

    code: int
    json: dict[str, Any]
    outcome: Outcome


HUBEI_AUTO = Path(__file__).resolve().parents[1] / "scripts" / "scenarios" / "hubei_auto.yaml"


@pytest.fixture(scope="session")
def hubei_run(tmp_path_factory: pytest.TempPathFactory) -> ScenarioRun:
    """The demo scenario, scripts/scenarios/hubei_auto.yaml, run once per session (under pytest-xdist, once per
    worker) for the tests that only read its outcome. Read it; never send anything on its chain."""
    from chain_client.apps.scenario import cli, session

    outcomes: list[Outcome] = []
    run_scenario = session.run_scenario

    def keeping(*args: Any, **kwargs: Any) -> Outcome:
        outcomes.append(run_scenario(*args, **kwargs))
        return outcomes[-1]

    out = tmp_path_factory.mktemp("hubei_auto") / "hubei.json"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cli, "run_scenario", keeping)
        code = cli.main([str(HUBEI_AUTO), "--quiet", "--json", str(out)])
    (outcome,) = outcomes
    return ScenarioRun(code, json.loads(out.read_text()), outcome)
