"""`scf` as a user runs it: the installed command in a subprocess. The embedded chain lives in one process,
so `scf demo --index FILE` writes an index that later commands (other processes) read."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from chain_client.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[1]
SCF = Path(sys.executable).parent / "scf"


def scf(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    assert SCF.exists(), f"{SCF} is not installed: `pip install -e .` (make test does)"
    return subprocess.run(
        [str(SCF), *args], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False, env=env
    )


def fails_in_one_line(run: subprocess.CompletedProcess[str]) -> str:
    assert run.returncode != 0
    assert "Traceback" not in run.stderr + run.stdout
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    return lines[0]


@pytest.fixture(scope="module")
def demo_index(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The demo, run once: its index file and the receivable's slot."""
    path = tmp_path_factory.mktemp("cli") / "demo.sqlite"
    run = scf("demo", "--index", str(path))
    assert run.returncode == 0, run.stderr
    assert "tier 3" in run.stdout
    assert "live fragments sum to ¥1,000,000.00 = face value: True" in run.stdout
    match = re.search(r"^slot (0x[0-9a-f]+)$", run.stdout, re.MULTILINE)
    assert match, run.stdout
    return path, match.group(1)


def test_help_lists_every_command() -> None:
    run = scf("--help")
    assert run.returncode == 0
    for command in ("deploy", "index", "reconcile", "tree", "path", "holdings", "receivables", "tiers", "demo"):
        assert command in run.stdout


def test_each_subcommand_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    parser = build_parser()
    for command in ("deploy", "index", "reconcile", "tree", "path", "holdings", "receivables", "tiers", "demo"):
        with pytest.raises(SystemExit) as done:
            parser.parse_args([command, "--help"])
        assert done.value.code == 0
        out = capsys.readouterr().out
        assert f"usage: scf {command}" in out
        assert "--index" in out or "--rpc" in out


def test_tree_from_the_index_file_in_another_process(demo_index: tuple[Path, str]) -> None:
    path, slot = demo_index
    run = scf("tree", slot, "--index", str(path), "--tiers")
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "owed by Huazhong Heavy Industry" in out
    assert "#1  tier 1  Jiangcheng Steel  ¥500,000.00" in out
    assert "#4  tier 3  Qingshan Fasteners  ¥120,000.00" in out
    assert "#6  tier 3  Jiangxia Packaging  ¥50,000.00" in out
    assert re.search(r"│\s+3 │\s+3 │\s+3 │\s+¥215,678.90", out), out  # tier 3: 3 fragments, 3 holders


def test_holdings_path_and_receivables(demo_index: tuple[Path, str]) -> None:
    path, slot = demo_index
    held = scf("holdings", "Hanyang Castings", "--index", str(path))
    assert held.returncode == 0, held.stderr
    assert "¥134,321.10" in held.stdout
    assert "1 fragment(s), ¥134,321.10 in total" in held.stdout

    hops = scf("path", f"{slot}#5", "--index", str(path))
    assert hops.returncode == 0, hops.stderr
    rows = [line for line in hops.stdout.splitlines() if line.startswith("│")]
    assert [r.split("│")[3].strip() for r in rows] == ["Hongshan Paints", "Hanyang Castings", "Jiangcheng Steel"]
    assert "Huazhong Heavy Industry" in rows[-1]  # the first fragment was paid out by the debtor

    listed = scf("receivables", "--min-value", "1,000,000", "--state", "active", "--index", str(path))
    assert listed.returncode == 0, listed.stderr
    assert "1 receivable(s)" in listed.stdout
    none = scf("receivables", "--min-value", "1000000.01", "--index", str(path))
    assert "0 receivable(s)" in none.stdout


def test_wrong_arguments_give_one_line_and_a_non_zero_exit(demo_index: tuple[Path, str], tmp_path: Path) -> None:
    path, _ = demo_index
    line = fails_in_one_line(scf("tree", "not-a-slot", "--index", str(path)))
    assert line.startswith("scf tree: error: not a slot")
    line = fails_in_one_line(scf("frobnicate"))
    assert "invalid choice" in line
    line = fails_in_one_line(scf("index", "--rpc", "http://127.0.0.1:9", "--deployment", str(tmp_path / "none.json")))
    assert "no deployment file" in line


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["tree", "0x1234"], "no receivable 0x1234 in the index"),
        (["holdings", "0x123"], "not an address, nor a name"),
        (["path", "12#0"], "not a fragment sequence"),
        (["path", "0x99#3"], "no fragment"),
        (["receivables", "--state", "sleepy"], "not a state"),
        (["receivables", "--matures-from", "tomorrow"], "not a date"),
        (["receivables", "--min-value", "1.234"], "more than two decimals"),
        (["index", "--rpc", "http://127.0.0.1:9", "--confirmations", "-1"], "must be 0 or more"),
        (["index", "--batch", "0", "--rpc", "x"], "must be at least 1"),
        (["tiers"], "the following arguments are required"),
    ],
)
def test_bad_arguments_in_process(
    demo_index: tuple[Path, str], argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = demo_index
    try:
        code = main([*argv, "--index", str(path)] if argv[0] in ("tree", "holdings", "path", "receivables") else argv)
    except SystemExit as done:  # argparse's own refusals
        code = int(done.code or 0)
    err = capsys.readouterr().err
    assert code != 0
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_missing_or_foreign_files_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    junk = tmp_path / "junk.sqlite"
    junk.write_text("not a database")
    cases = [
        (["tree", "1", "--index", str(tmp_path / "missing.sqlite")], "no index at"),
        (["tree", "1", "--index", str(junk)], "is not an index database"),
        (["reconcile", "--rpc", "http://127.0.0.1:9", "--deployment", str(junk)], "is not a deployment file"),
        (["deploy", "--rpc", "http://127.0.0.1:9", "--out", str(tmp_path / "d.json")], "no JSON-RPC node answers"),
    ]
    for argv, message in cases:
        code = main(argv)
        err = capsys.readouterr().err
        assert code != 0, argv
        assert message in err, err
        assert len(err.strip().splitlines()) == 1, err


def test_deploy_on_the_embedded_chain_writes_a_record(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "deployment.json"
    assert main(["deploy", "--out", str(out)]) == 0
    assert '"ReceivableToken"' in out.read_text()
    assert "ends with this command" in capsys.readouterr().out
    assert main(["demo", "--index", str(out)]) == 2  # the demo never overwrites a file
    assert "already exists" in capsys.readouterr().err
