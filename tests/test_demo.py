"""The README's demo commands run as a user runs them."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import NoReturn

import pytest

from chain_client.apps.scenario import session
from chain_client.ids import token_id_of
from scripts import demo, lender_demo

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)


def test_make_demo_runs_the_scenario_then_a_bank_over_http(tmp_path: Path) -> None:
    report = tmp_path / "report.html"
    run = _run("-m", "scripts.demo", "--report", str(report))
    assert run.returncode == 0, run.stderr[-2000:]
    assert "all invariants hold" in report.read_text()
    assert "✓ value conservation" in run.stdout
    assert run.stdout.count("realised yield") >= 3
    assert f"  {report}" in run.stdout.splitlines()  # the report's path alone on its line, never folded
    assert report.read_text().count("<svg") >= 3
    out = run.stdout
    # The lender part says what it is: a supply chain of its own beside the scenario's, with other banks.
    assert "The lender API, on the same embedded chain, over a supply chain of its own" in out
    assert "Bank of Hankou and Jianghan Factoring lend (not the scenario's members)" in out
    # Ids as `scf` shows them (0x-hex receivable, #sequence), dates not Unix seconds, money as ¥1,234.56.
    assert re.search(r"redeemed 0x[0-9a-f]{12}…#\d+: ¥[\d,]+\.\d\d paid", out), out
    assert re.search(r"debtor repaid ¥[\d,]+\.\d\d on receivable 0x[0-9a-f]{12}…$", out, re.MULTILINE), out
    assert re.search(r"clock moved [\d.]+ days, from \d{4}-\d\d-\d\d \d\d:\d\d UTC to maturity, \d{4}-", out), out
    assert re.search(r"│ us\s+│$", out, re.MULTILINE), "a request addressed to this bank"
    assert not re.search(r"\d{6}…\d{6}", out), "a decimal id"
    assert not re.search(r"\b1[789]\d{8}\b", out), "a Unix time"


def test_scf_demo_prints_a_three_tier_split_tree() -> None:
    run = _run("-m", "chain_client.apps.cli", "demo")
    assert run.returncode == 0, run.stderr
    assert "tier 3" in run.stdout
    assert "sum to ¥1,000,000.00 = face value: True" in run.stdout


def test_ctrl_c_during_the_demo_is_one_line_and_exit_130(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted(*_: object, **__: object) -> NoReturn:
        raise KeyboardInterrupt

    monkeypatch.setattr(session, "run_scenario", interrupted)
    assert demo.main([]) == 130
    assert capsys.readouterr().err == "demo: interrupted\n"


# The demo's scenario, replaced by one that says it has started and then works until it is stopped: the signal
# reaches a run that is certainly in progress, whatever the machine's speed (a real scenario can finish first).
_DEMO_STOPPED_MID_RUN = """
import sys, time
from chain_client.apps.scenario import session
from scripts import demo

def running(*_, **__):
    print("scenario running", flush=True)
    while True:
        time.sleep(0.01)

session.run_scenario = running
demo.exit_with(demo.main(sys.argv[1:]))
"""


def test_sigint_to_a_running_demo_prints_one_line_not_a_traceback(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", _DEMO_STOPPED_MID_RUN, "--report", str(tmp_path / "r.html")],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        while "scenario running" not in (line := process.stdout.readline()):
            assert line, "the demo ended before its scenario ran"
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert (process.returncode, err) == (130, "demo: interrupted\n")


# A Ctrl-C after the work is done, while the interpreter tears down: a finaliser sends it (as a late keypress
# landed in pycryptodome's in one CI run, which printed "Exception ignored in ... KeyboardInterrupt" and a
# traceback). The command's exit status stands and nothing is printed.
_CTRL_C_DURING_TEARDOWN = """
import os, signal, sys, time
from chain_client.interrupt import exit_with

class LateKeypress:
    def __del__(self):
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.2)

keypress = LateKeypress()
print("done", flush=True)
exit_with(int(sys.argv[1]))
"""


@pytest.mark.parametrize("code", [0, 1])
def test_ctrl_c_during_teardown_changes_neither_the_exit_status_nor_the_output(code: int) -> None:
    run = _run("-c", _CTRL_C_DURING_TEARDOWN, str(code))
    assert (run.returncode, run.stdout, run.stderr) == (code, "done\n", "")


def test_the_lender_demo_shows_ids_money_and_dates_as_scf_does() -> None:
    slot = 0x5D3A8B9C12AB << 176 | 7
    token_id = token_id_of(slot, 5)
    assert lender_demo.fragment(str(token_id)) == "0x5d3a8b9c12ab…#5"
    assert lender_demo.fragment(hex(token_id)) == "0x5d3a8b9c12ab…#5"
    assert lender_demo.receivable(str(slot)) == "0x5d3a8b9c12ab…"
    assert lender_demo.day(1_822_024_062) == "2027-09-27"
    assert lender_demo.day(None) == "-"


def _make_dry_run(target: str, npm_stamp: Path) -> str:
    """`make -n TARGET` as on a clone without node_modules: what it would run (the `contracts` recipe's freshness
    check does run, as every recipe line calling $(MAKE) does under -n)."""
    run = subprocess.run(
        ["make", "-n", target, f"NPM_STAMP={npm_stamp}"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stderr
    return run.stdout


def test_make_demo_installs_no_npm_package_while_the_committed_artifacts_are_current(tmp_path: Path) -> None:
    stamp = tmp_path / "node_modules" / ".installed"
    assert "npm ci" not in _make_dry_run("demo", stamp)
    assert "npm ci" not in _make_dry_run("gas", stamp)
    assert "npm ci" in _make_dry_run("test", stamp)  # Slither and the rpc tests need hardhat


def test_the_committed_artifacts_pass_the_freshness_check_silently() -> None:
    run = _run("-m", "chain_client.build", "--check")
    assert (run.returncode, run.stdout, run.stderr) == (0, "", "")
