"""`scf` as a user runs it: the installed command in a subprocess. The embedded chain lives in one process,
so `scf demo --index FILE` writes an index that later commands (other processes) read."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import NoReturn

import pytest
from eth_account import Account

from api.serve import build_parser as serve_parser
from api.serve import main as serve_main
from chain_client.apps.cli import _key as operator_key
from chain_client.apps.cli import build_parser, main
from chain_client.apps.scenario.cli import build_parser as scenario_parser

ROOT = Path(__file__).resolve().parents[1]
SCF = Path(sys.executable).parent / "scf"
KEY = "0x" + "4c" * 32  # any 32-byte key: the tests derive its address; nothing is sent


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
    assert "1 fragment, ¥134,321.10 in total" in held.stdout

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


def test_missing_or_foreign_files_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SCF_OPERATOR_KEY", raising=False)
    junk = tmp_path / "junk.sqlite"
    junk.write_text("not a database")
    key = tmp_path / "operator.key"
    key.write_text(KEY)
    deploy = ["deploy", "--rpc", "http://127.0.0.1:9", "--out", str(tmp_path / "d.json")]
    cases = [
        (["tree", "1", "--index", str(tmp_path / "missing.sqlite")], "no index at"),
        (["tree", "1", "--index", str(junk)], "is not an index database"),
        (["reconcile", "--rpc", "http://127.0.0.1:9", "--deployment", str(junk)], "is not a deployment file"),
        (deploy, "the operator's key is needed with --rpc"),  # found before any network call
        ([*deploy, "--operator-key-file", str(key)], "no JSON-RPC node answers"),
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


# ---------------------------------------------------------------------------------------------- every flag, one name


def _parsers() -> dict[str, argparse.ArgumentParser]:
    """Every `scf` command's parser, the delegated `scf serve` and `scf scenario` included."""
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    parsers = {f"scf {name}": p for name, p in sub.choices.items() if name not in ("serve", "scenario")}
    parsers["scf serve"] = serve_parser()
    parsers["scf scenario"] = scenario_parser()
    return parsers


def test_every_flag_of_every_command_has_help() -> None:
    for prog, parser in _parsers().items():
        assert parser.prog == prog
        for action in parser._actions:
            if action.help == argparse.SUPPRESS:
                continue  # an old spelling, kept working (see below)
            assert action.help, f"{prog} {'/'.join(action.option_strings) or action.dest} has no help"


def test_the_operators_key_file_is_spelled_one_way_in_every_command() -> None:
    spellings = {
        prog: {o for a in p._actions for o in a.option_strings if "key" in o} for prog, p in _parsers().items()
    }
    for prog in ("scf deploy", "scf demo", "scf scenario"):
        shown = {o for o in spellings[prog] if o in _parsers()[prog].format_help()}
        assert shown == {"--operator-key-file"}, (prog, shown)
    assert "--operator-key-file" not in spellings["scf serve"]  # it signs with the members' keys from --keys-file


def test_scf_serve_with_a_bad_flag_prints_one_line_and_exits_2() -> None:
    run = scf("serve", "--bogus")
    assert run.returncode == 2
    assert fails_in_one_line(run) == "scf serve: error: unrecognized arguments: --bogus (see `scf serve --help`)"
    assert run.stdout == ""


def test_scf_serve_help_names_itself_and_documents_host_and_port(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        serve_main(["--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: scf serve")
    assert "python -m api" not in out
    assert re.search(r"--host HOST\s+address to listen on", out), out
    assert re.search(r"--port PORT\s+TCP port to listen on \(default: 8000\)", out), out


def test_python_m_api_still_names_itself(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        serve_main(["--port", "eighty"], prog="python -m api")
    err = capsys.readouterr().err
    assert err.startswith("python -m api: error: argument --port: invalid int value: 'eighty'")
    assert len(err.strip().splitlines()) == 1


def test_the_old_key_flag_still_works_and_says_once_what_replaces_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SCF_OPERATOR_KEY", raising=False)
    address = Account.from_key(KEY).address
    old = build_parser().parse_args(["deploy", "--key", KEY])
    err = capsys.readouterr().err
    assert err == (
        "scf deploy: --key is deprecated: put the key in a file and give --operator-key-file FILE "
        "(or set $SCF_OPERATOR_KEY)\n"
    )
    assert operator_key(old).address == address

    key_file = tmp_path / "operator.key"
    key_file.write_text(KEY + "\n")
    new = build_parser().parse_args(["demo", "--operator-key-file", str(key_file)])
    assert capsys.readouterr().err == ""
    assert operator_key(new).address == address


def test_scenario_keeps_the_old_key_file_spelling_with_a_one_line_notice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = scenario_parser().parse_args(["x.yaml", "--key-file", "op.key"])
    assert args.operator_key_file == "op.key"
    assert capsys.readouterr().err == "scf scenario: --key-file is deprecated: use --operator-key-file FILE\n"
    args = scenario_parser().parse_args(["x.yaml", "--operator-key-file", "op.key"])
    assert args.operator_key_file == "op.key"
    assert capsys.readouterr().err == ""


def test_a_missing_key_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "none.key"
    code = main(["deploy", "--rpc", "http://127.0.0.1:9", "--operator-key-file", str(missing)])
    err = capsys.readouterr().err
    assert code == 2
    assert err == f"scf deploy: error: {missing}: cannot read the key file (No such file or directory)\n"


def test_deploy_and_demo_name_all_four_contracts(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["deploy", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "Membership, SettlementToken, ReceivableToken and FinancingDesk" in help_text
    assert main(["demo"]) == 0
    assert "Deploying Membership, SettlementToken, ReceivableToken and FinancingDesk" in capsys.readouterr().out


# ---------------------------------------------------------------------------------------------- Ctrl-C


def _interrupt(*_: object, **__: object) -> NoReturn:
    raise KeyboardInterrupt


@pytest.mark.parametrize(
    ("argv", "target", "line"),
    [
        (["demo"], "chain_client.apps.cli.run_demo", "scf demo: interrupted"),
        (["scenario", "x.yaml"], "chain_client.apps.scenario.cli.run_scenario", "scf scenario: interrupted"),
        (["serve"], "api.serve._embedded", "scf serve: interrupted"),
    ],
)
def test_ctrl_c_is_one_line_and_exit_130(
    argv: list[str], target: str, line: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(target, _interrupt)
    monkeypatch.setattr("api.serve.signal.signal", lambda *_: None)  # `scf serve` would keep its SIGTERM handler
    assert main(argv) == 130
    captured = capsys.readouterr()
    assert captured.err == line + "\n"


# ---------------------------------------------------------------------------------------------- scenario --index


def test_scenario_writes_an_index_that_tree_holdings_and_path_read(tmp_path: Path) -> None:
    index = tmp_path / "late.sqlite"
    run = scf("scenario", "scripts/scenarios/late_payment.yaml", "--index", str(index))
    assert run.returncode == 0, run.stderr[-2000:]
    lines = run.stdout.splitlines()
    assert f"index written to {index}; explore it with:" in lines
    tree_hint = next(line.strip() for line in lines if line.strip().startswith("scf tree "))
    assert tree_hint.endswith(f"--index {index} --tiers")  # the whole command on one line

    tree = scf(*tree_hint.split()[1:])
    assert tree.returncode == 0, tree.stderr
    assert "owed by Xiangyang Heavy Machinery" in tree.stdout
    assert "face ¥10,000,000.00" in tree.stdout
    held = scf("holdings", "Three Gorges Factoring", "--index", str(index))
    assert held.returncode == 0, held.stderr
    listed = scf("receivables", "--index", str(index))
    assert "1 receivable(s)" in listed.stdout

    again = scf("scenario", "scripts/scenarios/late_payment.yaml", "--index", str(index))
    assert again.returncode == 2
    assert "already exists" in again.stderr


def test_scf_demo_prints_its_hint_command_on_one_line(tmp_path: Path) -> None:
    index = tmp_path / ("a-rather-long-directory-name-" * 3) / "demo.sqlite"
    index.parent.mkdir()
    run = scf("demo", "--index", str(index), env={**os.environ, "COLUMNS": "60"})
    assert run.returncode == 0, run.stderr
    hint = next(line.strip() for line in run.stdout.splitlines() if line.strip().startswith("scf tree "))
    assert hint.endswith(f"--index {index}")
