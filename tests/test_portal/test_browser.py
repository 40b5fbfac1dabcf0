"""A whole supply chain done only by clicking, in headless Chromium (Debian's, driven by Playwright for Python):
the core's maker issues a voucher with its contract and the checker approves it; the tier-1 supplier accepts it
and pays two tier-2 suppliers; one of them offers a piece; the bank finds it, confirms and funds it; time moves
on the development chain; the core repays (maker and checker); every holder redeems; the auditor finds the
receivable and its tree. The chain is checked after each step, directly (not through the pages).

On every page: no request leaves the loopback address, no console error, every field has a label. The
screenshots of each role's main screen go to $SCF_SCREENSHOTS when set (docs/screenshots holds the current ones:
`SCF_SCREENSHOTS=docs/screenshots pytest tests/test_portal/test_browser.py`), else to a temporary folder.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import uvicorn

from api.dev import advance
from api.main import create_app
from api.seed import Party
from api.users import Duty
from chain_client.chain import revert_to, snapshot
from chain_client.devchain import now
from chain_client.ids import slot_of
from chain_client.receivables import ReceivableState
from tests.test_api.conftest import DAY, World, make_context
from tests.test_api.served import free_port

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
CONTRACT = b"%PDF-1.7\n% purchase contract HZ-2026-0415, 2,480,000.00 yuan of steel plate\n%%EOF\n"
# Every visible form field has a label a screen reader announces; the names of those without one.
UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea')]
  .filter(e => e.type !== 'hidden' && e.labels.length === 0 && !e.getAttribute('aria-label'))
  .map(e => e.name || e.id)"""

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (`make browser` installs it as root)"
)


@dataclass
class Watch:
    """What the pages did that they must not: requests to another host, console errors, unlabelled fields."""

    foreign: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    unlabelled: list[str] = field(default_factory=list)


@pytest.fixture
def portal(world: World, tmp_path: Path) -> Iterator[tuple[str, Any]]:
    """The API and portal served by uvicorn on a loopback port, in this process: the test reads the chain
    itself beside the browser."""
    snap = snapshot(world.w3)
    context = make_context(world, tmp_path)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(context), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", context
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        context.close()
        revert_to(world.w3, snap)
        world.scf.tx.nonces.forget()


def test_a_whole_supply_chain_by_clicking(world: World, portal: tuple[str, Any], tmp_path: Path) -> None:
    from playwright.sync_api import FilePayload, Page, sync_playwright

    url, context = portal
    scf, demo = world.scf, world.demo
    core, t1 = demo.core, next(p for p in demo.parties if p.name == "Jiangcheng Steel")
    t2a, t2b = (next(p for p in demo.parties if p.name == n) for n in ("Hanyang Castings", "Wuchang Bearings"))
    bank, auditor = demo.banks[0], world.auditor
    core_member = context.users.member_at(core.address)
    admin_user = context.users.configured_user(core_member)
    _, maker_key = context.users.create(core_member, "Li Na (treasury)", Duty.MAKER, admin_user)
    _, checker_key = context.users.create(core_member, "Wang Fang (finance manager)", Duty.CHECKER, admin_user)
    shots = Path(os.environ.get("SCF_SCREENSHOTS") or tmp_path / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    watch = Watch()
    steps: list[tuple[str, float]] = []
    started = time.monotonic()

    def step(name: str) -> None:
        steps.append((name, time.monotonic() - started))

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)

        def as_user(key: str) -> Page:
            """A browser context of its own (its own cookies) signed in with `key`, by keyboard only."""
            ctx = browser.new_context(viewport={"width": 1280, "height": 900})
            ctx.route("**/*", lambda route: _loopback_only(route, watch))
            page = ctx.new_page()
            page.on("console", lambda m: watch.errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: watch.errors.append(str(e)))
            page.goto(url + "/portal/")
            assert page.url.endswith("/portal/sign-in")
            page.get_by_label("API key").focus()
            page.keyboard.type(key)
            with page.expect_navigation():
                page.keyboard.press("Enter")
            assert page.url.endswith("/portal/"), page.content()[:500]
            check(page)
            return page

        def check(page: Page) -> None:
            watch.unlabelled.extend(f"{page.url}: {n}" for n in page.evaluate(UNLABELLED))

        def click(page: Page, name: str | re.Pattern[str], *, exact: bool = False) -> None:
            with page.expect_navigation():
                page.get_by_role("button", name=name, exact=exact).click()
            check(page)

        def follow(page: Page, name: str) -> None:
            with page.expect_navigation():
                page.get_by_role("link", name=name, exact=True).first.click()
            check(page)

        existing = {h.token_id for h in _held(context, t1)}
        # 1. The core's maker issues 2,480,000.00 with its contract; the checker approves it.
        maker = as_user(maker_key)
        follow(maker, "Issue a voucher")
        maturity = now(scf.w3) + 90 * DAY
        maker.get_by_label("Supplier").select_option(t1.address)
        maker.get_by_label("Face value (¥)").fill("2480000.00")
        maker.get_by_label("Maturity").fill(_day(maturity))
        maker.get_by_label("Contract", exact=True).set_input_files(
            files=FilePayload(name="contract.pdf", mimeType="application/pdf", buffer=CONTRACT)
        )
        click(maker, "Prepare the issue")
        assert "waits for a checker" in maker.content()
        checker = as_user(checker_key)
        follow(checker, "Approvals")
        click(checker, re.compile(r"^Approve "))
        assert "executed on chain" in checker.content(), checker.content()[:2000]
        held = [h for h in _held(context, t1) if h.token_id not in existing]
        assert len(held) == 1
        voucher = held[0]
        slot = slot_of(voucher.token_id)
        assert scf.receivables.receivable(slot).state is ReceivableState.PENDING
        assert scf.receivables.fragment(voucher.token_id).value == 248_000_000
        step("issued (maker + checker)")

        # 2. Tier 1 accepts, then pays two tier-2 suppliers from the voucher.
        supplier = as_user(t1.api_key)
        assert "¥2,480,000.00" in supplier.content()
        click(supplier, f"Accept {voucher.token_id}")
        assert scf.receivables.receivable(slot).state is ReceivableState.ACTIVE
        follow(supplier, "Pay my suppliers")
        supplier.get_by_label("From voucher").select_option(str(voucher.token_id))
        supplier.get_by_label("Payee (address) 1").fill(t2a.address)
        supplier.get_by_label("Value 1").fill("600000.00")
        supplier.get_by_label("Payee (address) 2").fill(t2b.address)
        supplier.get_by_label("Value 2").fill("400000.00")
        click(supplier, "Prepare the payment")
        assert "executed on chain" in supplier.content(), supplier.content()[:2000]
        assert scf.receivables.fragment(voucher.token_id).value == 148_000_000
        (piece_a,) = _held(context, t2a, slot)
        (piece_b,) = _held(context, t2b, slot)
        assert (piece_a.value, piece_b.value) == (60_000_000, 40_000_000)
        supplier.goto(url + "/portal/")
        supplier.screenshot(path=str(shots / "supplier-home.png"), full_page=True)
        follow(supplier, "中文")  # the same page in Chinese, then back
        assert "待签收的凭证" in supplier.content()
        supplier.screenshot(path=str(shots / "supplier-home-zh.png"), full_page=True)
        follow(supplier, "English")
        step("accepted, paid two tier-2 suppliers")

        # 3. Tier 2 offers 200,000.00 of its piece at 4.2 %: quote first, then offer at the price shown.
        seller = as_user(t2a.api_key)
        follow(seller, f"Offer for financing {piece_a.token_id}")
        seller.get_by_label("Value (¥)").fill("200000.00")
        seller.get_by_label("Annual discount rate (%)").fill("4.2")
        click(seller, "Quote")
        price_text = seller.locator("#quoted-price").inner_text()
        price = _fen(price_text)
        assert 0 < price < 20_000_000
        click(seller, re.compile(r"^Offer at "))
        assert "executed on chain" in seller.content(), seller.content()[:2000]
        follow(seller, "My offers")
        assert price_text in seller.content()
        step("offered a piece (quote, then offer)")

        # 4. The bank filters the market, reviews the offer and funds it at the confirmed price.
        lender = as_user(bank.api_key)
        follow(lender, "Open offers")
        lender.get_by_label("Value from (¥)").fill("200000.00")
        lender.get_by_label("Value up to (¥)").fill("200000.00")
        lender.get_by_label("Rate from (%)").fill("4.1")
        click(lender, "Filter")
        lender.screenshot(path=str(shots / "bank-market.png"), full_page=True)
        reviews = lender.get_by_role("link", name=re.compile(r"^Review \d+$"))
        assert reviews.count() == 1, lender.content()[:3000]
        with lender.expect_navigation():
            reviews.first.click()
        assert price_text in lender.content()
        cash = scf.cash.balance_of(t2a.address), scf.cash.balance_of(bank.address)
        click(lender, "Fund", exact=True)
        assert "executed on chain" in lender.content(), lender.content()[:2000]
        assert scf.cash.balance_of(t2a.address) == cash[0] + price
        assert scf.cash.balance_of(bank.address) == cash[1] - price
        financed = _held(context, bank, slot)
        assert [f.value for f in financed] == [20_000_000]
        follow(lender, "Portfolio")
        assert price_text in lender.content()
        lender.screenshot(path=str(shots / "bank-portfolio.png"), full_page=True)
        step("the bank funded it")

        # 5. The core's home shows what it owes by month; time moves to maturity; maker repays, checker approves.
        maker.goto(url + "/portal/")
        assert maker.locator("svg.chart title").count() >= 1
        maker.screenshot(path=str(shots / "core-home.png"), full_page=True)
        advance(context, maturity - now(scf.w3) + 1)
        # The core's bank deposit arrives on chain: the operator cashes it in on its admin page.
        operator = as_user(demo.operator.api_key)
        follow(operator, "Members and settings")
        core_cash = scf.cash.balance_of(core.address)
        operator.locator("#mint-to").fill(core.address)
        operator.locator("#mint-amount").fill("2480000.00")
        click(operator, "Cash in", exact=True)
        assert "executed on chain" in operator.content(), operator.content()[:2000]
        assert scf.cash.balance_of(core.address) == core_cash + 248_000_000
        operator.screenshot(path=str(shots / "operator-admin.png"), full_page=True)
        maker.reload()
        click(maker, f"Repay {slot}")
        assert "waits for a checker" in maker.content()
        follow(checker, "Approvals")
        click(checker, re.compile(r"^Approve "))
        assert "executed on chain" in checker.content(), checker.content()[:2000]
        assert scf.receivables.receivable(slot).state is ReceivableState.REPAID
        step("time moved; repaid (maker + checker)")

        # 6. Every holder redeems what it holds of this receivable.
        for party, page in ((t1, supplier), (t2a, seller), (bank, lender)):
            page.goto(url + "/portal/")
            for piece in _held(context, party, slot):
                before = scf.cash.balance_of(party.address)
                click(page, f"Redeem {piece.token_id}")
                assert "executed on chain" in page.content(), page.content()[:2000]
                assert scf.cash.balance_of(party.address) == before + piece.value
        other = as_user(t2b.api_key)
        before = scf.cash.balance_of(t2b.address)
        click(other, f"Redeem {piece_b.token_id}")
        assert scf.cash.balance_of(t2b.address) == before + 40_000_000
        for party in (t1, t2a, t2b, bank):
            assert _held(context, party, slot) == []
        step("every holder redeemed")

        # 7. The auditor searches the receivable and sees its whole tree, paid out.
        audit = as_user(auditor.api_key)
        audit.locator("#q").fill(str(slot))
        click(audit, "Search", exact=True)
        assert audit.url.endswith(f"/portal/receivables/{slot}")
        check(audit)
        tree = audit.content()
        for party in (t1, t2a, t2b, bank):
            assert party.address in tree
        assert "¥2,480,000.00" in tree
        # The picture (the scenario report's renderer): the bank's box hangs from the tier-2 seller, with its figures.
        assert audit.locator("svg.tree").count() == 1
        bank_box = audit.locator("svg.tree title", has_text="Bank of Hankou")
        assert bank_box.count() >= 1
        assert "¥200,000.00" in (bank_box.first.text_content() or "")
        audit.screenshot(path=str(shots / "auditor-tree.png"), full_page=True)
        step("the auditor found it and its tree")
        browser.close()

    assert watch.foreign == []
    assert watch.errors == []
    assert watch.unlabelled == []
    for name, at in steps:
        print(f"{at:7.1f} s  {name}")


def _loopback_only(route: Any, watch: Watch) -> None:
    host = urlsplit(route.request.url).hostname
    if host in ("127.0.0.1", "localhost") or route.request.url.startswith(("data:", "about:")):
        route.continue_()
    else:
        watch.foreign.append(route.request.url)
        route.abort()


def _held(context: Any, party: Party, slot: int | None = None) -> list[Any]:
    with context.read() as view:
        held = view.index.holdings(party.address, at=view.now)
    return [h for h in held if slot is None or h.slot == slot]


def _day(unix: int) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(unix, dt.UTC).strftime("%Y-%m-%d")


def _fen(text: str) -> int:
    yuan, cents = text.strip().removeprefix("¥").replace(",", "").split(".")
    return int(yuan) * 100 + int(cents)
