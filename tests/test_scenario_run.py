"""The shipped scenarios run to the end on the embedded chain with every invariant holding: hubei_auto.yaml (in
well under a minute), late_payment.yaml and stress_1000.yaml (marked `slow`: about a minute and a half on two
cores; `-m "not slow"` leaves a reduced copy of it, which runs the same code in seconds)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from chain_client.apps.scenario import cli, ops
from chain_client.apps.scenario.generate import expand
from chain_client.apps.scenario.loader import load
from chain_client.apps.scenario.plan import build_plan
from chain_client.apps.scenario.session import RunOptions, prepare, run_scenario
from chain_client.receivables import ReceivableState
from tests.conftest import ScenarioRun

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scripts" / "scenarios"


def run_cli(path: Path, out: Path, *extra: str) -> tuple[int, dict[str, Any], float]:
    """`scf scenario FILE --json OUT`; (exit code, the JSON summary, seconds)."""
    started = time.monotonic()
    code = cli.main([str(path), "--quiet", "--json", str(out), *extra])
    return code, json.loads(out.read_text()), time.monotonic() - started


def test_hubei_auto_runs_to_the_end_with_every_invariant_holding(hubei_run: ScenarioRun) -> None:
    # How long it takes is measured by scripts/bench.py, not asserted here: a busy CI machine is no clock.
    # The session's one run of it (tests/conftest.py), through the same `scf scenario FILE --quiet --json OUT`.
    code, s = hubei_run.code, hubei_run.json
    assert code == 0
    assert [(c["name"], c["passed"]) for c in s["checks"]] == [
        ("value conservation", True),
        ("cash conservation", True),
        ("index equals chain", True),
        ("chain matches the dry run", True),
    ]
    assert [(t["tier"], t["members"]) for t in s["tiers"]] == [(1, 3), (2, 12), (3, 40)]
    assert all(t["value_received"] > 0 and t["financings"] > 0 for t in s["tiers"])
    assert [r["financier"] for r in s["lenders"]] == ["Hubei Commercial Bank", "Changjiang SCF Factoring"]
    rates = [float(r["rate"]) for r in s["lenders"]]
    assert rates[0] < rates[1]  # the bank is cheaper than the factoring company
    assert s["financings"] == 9
    assert [(r["state"], r["late"], r["outstanding"]) for r in s["repayments"]] == [("repaid", 0, 0)] * 3
    assert sum(r["paid_out"] for r in s["repayments"]) == 86_300_000_00
    assert len(s["trees"]) == 3
    assert list(s["timings"]) == [  # where a large run's time goes, phase by phase (not how long: no clock here)
        "planning",
        "sending",
        "reading the ledger",
        "check: value conservation",
        "check: cash conservation",
        "check: index equals chain",
        "check: chain matches the dry run",
        "summarising",
    ]
    assert all(isinstance(seconds, float) and seconds >= 0 for seconds in s["timings"].values())


def test_late_payment_runs_to_the_end_with_partial_overdue_late_payments_and_recourse(tmp_path: Path) -> None:
    code, s, _ = run_cli(SCENARIOS / "late_payment.yaml", tmp_path / "late.json")
    assert code == 0
    assert all(c["passed"] for c in s["checks"])
    (r,) = s["repayments"]
    assert (r["on_time"], r["late"], r["outstanding"], r["state"]) == (4_000_000_00, 6_000_000_00, 0, "repaid")
    assert r["overdue_marked"]
    assert r["days_late"] == 29
    factoring = next(row for row in s["lenders"] if row["financier"] == "Three Gorges Factoring")
    assert factoring["recourse"] == 1_300_000_00 * 60 // 100  # the unpaid 60% of the ¥1.3M Yichang Valves kept
    # Yichang Valves bought its fragment back; the desk paid it the late payments on that fragment, on chain
    assert factoring["paid_to_sellers"] == factoring["recourse"]


def reduced_stress(tmp_path: Path) -> Path:
    """stress_1000.yaml with the same shape at a tenth of the size."""
    data = yaml.safe_load((SCENARIOS / "stress_1000.yaml").read_text())
    data["generate"].update(suppliers_per_tier=[2, 6, 15, 30], receivables_per_tier1=2, financings=20)
    path = tmp_path / "stress_reduced.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return path


def test_a_reduced_copy_of_stress_1000_runs_to_the_end_with_every_invariant_holding(tmp_path: Path) -> None:
    code, s, _ = run_cli(reduced_stress(tmp_path), tmp_path / "stress.json")
    assert code == 0
    assert all(c["passed"] for c in s["checks"])
    assert [t["members"] for t in s["tiers"]] == [2, 6, 15, 30]
    assert s["financings"] == 20
    assert all(r["state"] == "repaid" and r["outstanding"] == 0 for r in s["repayments"])


def test_stress_1000_is_a_thousand_suppliers_five_thousand_operations_and_full_settlement() -> None:
    source, plan = prepare(SCENARIOS / "stress_1000.yaml")
    tiers = [m.tier for m in plan.members.values() if m.tier is not None]
    assert len(tiers) == 1000
    assert sorted(set(tiers)) == [1, 2, 3, 4]
    assert plan.operations >= 5000
    assert plan.count(ops.Finance) == 500
    assert all(r.state is ReceivableState.REPAID for r in plan.final.receivables.values())
    assert all(f.burned for f in plan.final.fragments.values())  # every fragment settled in full
    assert source.file_steps == 0  # a few lines: all of it generated


def test_the_generator_is_reproducible_from_its_seed() -> None:
    path = SCENARIOS / "stress_1000.yaml"

    def plan(seed: int | None) -> list[tuple[ops.Op, ...]]:
        scenario = expand(load(path, seed=seed).scenario)
        return [step.ops for step in build_plan(scenario, t0=1_800_000_000).steps]

    assert plan(None) == plan(None)
    assert plan(None) == plan(1000)  # the file's own seed
    assert plan(None) != plan(7)


@pytest.mark.slow
def test_stress_1000_runs_to_the_end_with_every_invariant_holding() -> None:
    outcome = run_scenario(SCENARIOS / "stress_1000.yaml", RunOptions(quiet=True))
    s = outcome.summary
    assert s.passed, [c.failures for c in s.checks]
    assert (s.financings, s.operations) == (500, outcome.plan.operations)
    assert s.operations >= 5000
    assert sum(t.members for t in s.tiers) == 1000
    assert all(r.state == "repaid" and r.outstanding == 0 for r in s.repayments)
    print(f"stress_1000: {outcome.stats.wall_seconds:.1f} s sending, {outcome.stats.check_seconds:.1f} s checking")


SEVERAL_CORES = """
name: Three carmakers
settings: {seed: 3}
generate:
  cores: [{name: Dongfeng}, {name: Changan}, {name: Chery, cash: "900,000,000.00"}]
  financiers: [{name: Hankou Bank, rate: ["3.10%", "3.90%"]}]
  suppliers_per_tier: [7, 20]
  face: ["1,000,000.00", "5,000,000.00"]
  tenor_days: [90, 120]
  financings: 6
  recourse_probability: 0.5
  repayment: partial_then_late
"""


def test_a_generated_chain_with_several_core_enterprises_shares_tier_1_out_and_each_repays_its_own(
    tmp_path: Path,
) -> None:
    path = tmp_path / "cores.yaml"
    path.write_text(SEVERAL_CORES)
    scenario = expand(load(path).scenario)
    debtors = [r.debtor for r in scenario.receivables]
    assert debtors == ["Dongfeng", "Changan", "Chery"] * 2 + ["Dongfeng"]  # seven tier-1 suppliers, in turn
    cash = {member.name: member.cash for member in scenario.members if member.role.value == "core"}
    faces = {name: sum(r.face for r in scenario.receivables if r.debtor == name) for name in ("Dongfeng", "Changan")}
    assert cash == {**faces, "Chery": 900_000_000_00}  # each what it owes, unless the file says

    outcome = run_scenario(path, RunOptions(quiet=True))

    assert outcome.summary.passed, [c.failures for c in outcome.summary.checks]
    assert all(r.state == "repaid" and r.outstanding == 0 for r in outcome.summary.repayments)


def test_a_generator_given_both_core_and_cores_is_refused_naming_the_rule(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "both.yaml"
    path.write_text(SEVERAL_CORES.replace("  cores:", "  core: {name: Geely}\n  cores:"))

    code = cli.main([str(path), "--dry-run"])

    assert code == 2
    assert "both.yaml:5: generate: give core or cores, not both" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("cores", "message"),
    [
        ("[{name: Chery}, {name: Chery}]", "two cores have the same name"),
        ("[{name: Hankou Bank}]", "Hankou Bank is named as a core and as a financier"),
        ("[]", "cores: List should have at least 1 item after validation, not 0"),
    ],
)
def test_generated_cores_that_clash_or_are_missing_are_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], cores: str, message: str
) -> None:
    path = tmp_path / "cores.yaml"
    path.write_text(SEVERAL_CORES.replace(SEVERAL_CORES.splitlines()[4], f"  cores: {cores}"))

    assert cli.main([str(path), "--dry-run"]) == 2
    assert f"cores.yaml:5: generate: {message}\n" in capsys.readouterr().err
