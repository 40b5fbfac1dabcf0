"""Recourse in a scenario, as the desk does it since the buy-back rework: `settle_recourse` first pays the
financier what its fragment is owed, then the seller pays the unpaid part and the desk takes the fragment into
custody; every settlement that pays the custodied fragment is followed by a `RedeemRecourse`, so the seller is
paid its share of the late payments on chain and the desk ends each step with no cash. The dry run predicts
every figure to the fen (the executor stops on the first difference) and the invariant checks hold."""

from __future__ import annotations

from pathlib import Path

import pytest

from chain_client.apps.scenario import ops
from chain_client.apps.scenario.generate import expand
from chain_client.apps.scenario.ledger import read_ledger
from chain_client.apps.scenario.loader import load
from chain_client.apps.scenario.plan import PlanError, build_plan
from chain_client.apps.scenario.session import Outcome, RunOptions, prepare, run_scenario
from chain_client.apps.scenario.world import DESK

ROOT = Path(__file__).resolve().parents[1]
LATE = ROOT / "scripts" / "scenarios" / "late_payment.yaml"
VALVES_KEPT = 1_300_000_00  # what Yichang Valves kept of its ¥3M and sold, with recourse, as f_valves
SELLER, FINANCIER = "Yichang Valves", "Three Gorges Factoring"


def variant(tmp_path: Path, *changes: tuple[str, str]) -> Path:
    text = LATE.read_text()
    for old, new in changes:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path = tmp_path / "late_variant.yaml"
    path.write_text(text)
    return path


def run(path: Path) -> Outcome:
    outcome = run_scenario(path, RunOptions(quiet=True))
    assert outcome.summary.passed, [c.failures for c in outcome.summary.checks]
    return outcome


@pytest.fixture(scope="module")
def late() -> Outcome:
    return run(LATE)


def test_the_dry_run_buys_back_at_the_unpaid_60_percent_and_passes_both_late_payments_on_to_the_seller() -> None:
    _, plan = prepare(LATE)
    f_valves = plan.financings["f_valves"]
    by_verb = {(s.verb, s.label): s.ops for s in plan.steps}
    (buy_back,) = by_verb["settle_recourse", "settle_recourse f_valves"]
    assert buy_back == ops.SettleRecourse(SELLER, f_valves, VALVES_KEPT * 60 // 100)
    redemptions = [op for s in plan.steps for op in s.ops if isinstance(op, ops.RedeemRecourse)]
    # ¥3M then ¥3M of the ¥10M face: 30% of the fragment each time, all of it the seller's (it bought all of it)
    assert redemptions == [
        ops.RedeemRecourse(f_valves, VALVES_KEPT * 30 // 100, 0, VALVES_KEPT * 30 // 100),
        ops.RedeemRecourse(f_valves, VALVES_KEPT * 30 // 100, 0, VALVES_KEPT * 60 // 100),
    ]
    assert plan.final.cash.get(DESK, 0) == 0
    custody = plan.final.custody[f_valves]
    assert (custody.paid_before, custody.seller_share, custody.distributed, custody.paid_to_seller) == (
        VALVES_KEPT * 40 // 100,
        VALVES_KEPT * 60 // 100,
        VALVES_KEPT * 60 // 100,
        VALVES_KEPT * 60 // 100,
    )


def test_late_payment_pays_the_seller_its_share_of_the_late_payments_on_chain_and_leaves_the_desk_no_cash(
    late: Outcome,
) -> None:
    scf, accounts = late.scf, late.accounts
    f_valves = late.plan.financings["f_valves"]
    ledger = read_ledger(late.w3, scf.contracts, late.record.block_number)
    seller, financier = accounts.address(SELLER), accounts.address(FINANCIER)

    assert [(c.seller, c.financier, c.amount) for c in ledger.settled_claims] == [
        (seller, financier, VALVES_KEPT * 60 // 100)
    ]
    assert [(d.financed_id, d.seller, d.to_seller, d.financier, d.to_financier) for d in ledger.redemptions] == [
        (f_valves, seller, VALVES_KEPT * 30 // 100, financier, 0)
    ] * 2
    assert scf.cash.balance_of(accounts.address(DESK)) == 0
    custody = scf.financing.custody(f_valves)
    assert (custody.distributed, custody.paid_to_seller) == (VALVES_KEPT * 60 // 100,) * 2
    # The seller paid ¥780,000 to buy back and received ¥780,000 from the late payments: it keeps the price.
    (sale,) = [f for f in ledger.financings if f.financed_id == f_valves]
    assert scf.cash.balance_of(seller) == sale.price
    # The financier had ¥520,000 at maturity and ¥780,000 from the buy-back: the whole value, no more.
    paid_to_financier = sum(p.amount for p in ledger.payouts if p.token_id == f_valves and p.holder == financier)
    assert paid_to_financier == VALVES_KEPT * 40 // 100
    assert accounts.name_of(accounts.address(DESK)) == DESK


def test_the_report_shows_what_reached_the_seller_after_the_buy_back(late: Outcome) -> None:
    s = late.summary
    factoring = next(r for r in s.lenders if r.financier == FINANCIER)
    assert (factoring.recourse, factoring.paid_to_sellers) == (VALVES_KEPT * 60 // 100,) * 2
    assert factoring.repaid == 2_500_000_00  # f_valves ¥1.3M (maturity + buy-back) and f_castings ¥1.2M
    assert (factoring.outstanding, factoring.open_financings) == (0, 0)
    (tier2,) = [t for t in s.tiers if t.tier == 2]
    # Shashi Pumps ¥1M, Jingmen Seals ¥1.2M, and Yichang Valves the ¥780,000 the desk passed on
    assert tier2.cash_at_maturity == 1_000_000_00 + 1_200_000_00 + VALVES_KEPT * 60 // 100
    (tree,) = s.trees
    (desk,) = [n for n in tree.nodes if n.role == "desk"]
    assert (desk.name, desk.received) == (DESK, VALVES_KEPT)
    assert [(e.kind, e.value) for e in tree.edges if e.target == desk.address] == [("buyback", VALVES_KEPT)]
    (valves,) = [n for n in tree.nodes if n.name == SELLER]
    assert valves.paid == VALVES_KEPT * 60 // 100


def test_a_fragment_still_in_custody_at_the_end_is_held_by_the_desk_as_the_dry_run_says(tmp_path: Path) -> None:
    text = LATE.read_text()
    path = tmp_path / "late_unpaid.yaml"  # without the second late payment
    path.write_text(text[: text.index("  - advance: {days: 15}")])
    outcome = run(path)
    f_valves = outcome.plan.financings["f_valves"]
    fragment = outcome.scf.receivables.fragment(f_valves)
    assert (fragment.owner, fragment.value) == (outcome.accounts.address(DESK), VALVES_KEPT)
    assert outcome.scf.cash.balance_of(fragment.owner) == 0
    assert outcome.scf.financing.custody(f_valves).paid_to_seller == VALVES_KEPT * 30 // 100


def test_odd_repayments_are_shared_to_the_fen_as_the_contract_rounds(tmp_path: Path) -> None:
    path = variant(
        tmp_path,
        ("repay: {receivable: hydraulics, percent: 40}", 'repay: {receivable: hydraulics, amount: "3,333,333.37"}'),
        ('repay: {receivable: hydraulics, amount: "3,000,000.00"}', 'repay: {receivable: hydraulics, amount: "1.01"}'),
    )
    outcome = run(path)  # the executor compares every buy-back and redemption with the chain
    redeemed = [op for s in outcome.plan.steps for op in s.ops if isinstance(op, ops.RedeemRecourse)]
    f_valves = outcome.plan.financings["f_valves"]
    paid_before = VALVES_KEPT * 3_333_333_37 // 10_000_000_00
    assert outcome.scf.financing.custody(f_valves).paid_before == paid_before
    assert sum(op.to_seller + op.to_financier for op in redeemed) == VALVES_KEPT - paid_before


def test_buying_back_a_frozen_fragment_is_refused_by_the_dry_run(tmp_path: Path) -> None:
    path = variant(
        tmp_path,
        (
            "  - settle_recourse: f_valves\n",
            '  - freeze: {fragment: f_valves, reason: "a dispute"}\n  - settle_recourse: f_valves\n',
        ),
    )
    with pytest.raises(PlanError) as err:
        build_plan(expand(load(path).scenario), t0=1_800_000_000)
    assert [p.message for p in err.value.problems] == [
        "f_valves is frozen: the desk can neither settle it nor take it back (unfreeze first)"
    ]


def test_a_financier_financing_a_fragment_it_holds_is_refused_by_the_dry_run(tmp_path: Path) -> None:
    castings = "open_market: true, as: f_castings}\n"
    again = '  - finance: {fragment: f_castings, rate: "5.00%", financier: Three Gorges Factoring}\n'
    path = variant(tmp_path, (castings, castings + again))
    with pytest.raises(PlanError) as err:
        build_plan(expand(load(path).scenario), t0=1_800_000_000)
    assert [p.message for p in err.value.problems] == [
        "Three Gorges Factoring holds f_castings: the desk refuses a sale to oneself"
    ]
