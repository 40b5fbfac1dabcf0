"""The report: a self-contained HTML file with one inline SVG credit tree per receivable and nothing loaded from
anywhere else; it opens in headless Chromium (Debian's `chromium`), and the screenshot shows the trees."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from chain_client.apps.scenario.html import render_html, write_html
from chain_client.apps.scenario.report import members_paid, print_summary
from chain_client.apps.scenario.session import Outcome
from chain_client.apps.scenario.summary import Edge, Node, Tree
from chain_client.apps.scenario.svg import MAX_ROWS, render_svg
from tests.conftest import ScenarioRun

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


@pytest.fixture(scope="module")
def hubei(hubei_run: ScenarioRun) -> Outcome:
    """hubei_auto.yaml's outcome, from the run the session shares (tests/conftest.py)."""
    return hubei_run.outcome


@pytest.fixture(scope="module")
def report(hubei: Outcome, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report") / "hubei.html"
    write_html(hubei.summary, path)
    return path


def test_the_report_has_one_svg_tree_per_receivable(report: Path, hubei: Outcome) -> None:
    html = report.read_text()
    assert html.count("<svg") == len(hubei.plan.receivables) == 3
    assert html.count("</svg>") == 3
    for name in hubei.plan.receivables:
        assert f"<h3>{name}: Jianghan Motor Group owes" in html
    assert html.count('class="edge finance"') >= 3  # financings are drawn, dashed
    assert "financed-mark" in html


def test_the_report_loads_nothing_from_anywhere_else(report: Path) -> None:
    html = report.read_text()
    assert "http://" not in html
    assert "https://" not in html
    assert not re.search(r"<(script|link|img|iframe|object|embed)\b", html, re.IGNORECASE)
    assert not re.search(r"\b(src|href)\s*=", html, re.IGNORECASE)
    assert "url(" not in html
    assert "@import" not in html


def test_the_terminal_summary_has_the_tables_and_the_checks(hubei: Outcome, capsys: pytest.CaptureFixture[str]) -> None:
    from rich.console import Console

    print_summary(Console(width=200), hubei.summary)
    out = capsys.readouterr().out
    for title in ("Per tier", "Per lender", "Repayment", "Invariants"):
        assert title in out
    assert out.count("✓") == 4
    # Totals that mean something: the value issued, not value received summed over tiers (¥177,968,750.50)
    assert "issued ¥86,300,000.00" in out
    assert "¥177,968,750.50" not in out
    assert f"{members_paid(hubei.summary)} distinct" in out


def test_the_repayment_footer_counts_each_member_paid_once(hubei: Outcome) -> None:
    s = hubei.summary
    paid = members_paid(s)
    assert paid < sum(r.holders_paid for r in s.repayments)  # the banks were paid on every receivable
    assert paid <= len(hubei.plan.members)


def test_a_crowded_tier_shows_its_largest_holders_and_one_node_for_the_rest() -> None:
    core = Node(address="0xC", name="Core", role="core", tier=None, received=0, bought=0, sold=0, paid=0)
    t1 = Node(address="0x1", name="Tier one", role="supplier", tier=1, received=100_00, bought=0, sold=0, paid=0)
    leaves = [
        Node(address=f"0x2{i:03d}", name=f"Leaf {i}", role="supplier", tier=2, received=i + 1, bought=0, sold=0, paid=0)
        for i in range(100)
    ]
    edges = [Edge(source="0xC", target="0x1", value=100_00, kind="issue", fragments=1)]
    edges += [Edge(source="0x1", target=n.address, value=n.received, kind="pay", fragments=1) for n in leaves]
    tree = Tree(
        receivable="r",
        slot="0x1",
        debtor="Core",
        face=100_00,
        maturity="2030-01-01",
        state="active",
        document="d",
        nodes=[core, t1, *leaves],
        edges=edges,
    )
    svg = render_svg(tree)
    assert svg.count('<g class="node supplier"') == 1 + MAX_ROWS
    assert f"+ {100 - (MAX_ROWS - 1)} more holders" in svg
    assert "Leaf 99" in svg  # the largest are shown
    assert "<title>Leaf 0" not in svg  # the smallest are folded into the last node


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install -y chromium)")
def test_the_report_opens_in_headless_chromium_and_the_screenshot_shows_the_trees(
    report: Path, hubei: Outcome, tmp_path: Path
) -> None:
    assert CHROMIUM is not None
    without_trees = tmp_path / "no_trees.html"
    without_trees.write_text(re.sub(r"<svg.*?</svg>", "", render_html(hubei.summary), flags=re.DOTALL))
    shots = {}
    for name, page in (("report", report), ("no_trees", without_trees)):
        png = tmp_path / f"{name}.png"
        run = subprocess.run(
            [
                CHROMIUM,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={tmp_path / ('profile-' + name)}",
                f"--screenshot={png}",
                "--window-size=1400,2400",
                page.resolve().as_uri(),
            ],
            capture_output=True,
            timeout=120,
            check=False,
        )
        assert png.exists(), run.stderr.decode(errors="replace")[-2000:]
        data = png.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        assert (int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")) == (1400, 2400)
        shots[name] = len(data)
    # The trees are drawn: the page with them compresses to a much larger picture than the same page without.
    assert shots["report"] > shots["no_trees"] + 50_000, shots
