"""`scf scenario FILE` (and `python -m chain_client.apps.scenario FILE`): run a scenario file and report.

Exit codes: 0 every invariant holds; 1 an invariant failed or the chain refused a step; 2 the file, the options
or the journal are wrong (one line per problem, nothing sent); 130 interrupted (Ctrl-C).

`--index FILE` also writes the run's events into the event index that `scf tree`, `scf path`, `scf holdings`,
`scf receivables` and `scf tiers` read (their `--index FILE`, or $SCF_INDEX), with every member's name as a label.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sqlite3
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from chain_client.apps.cli import DeprecatedFlag, add_operator_key_file
from chain_client.apps.scenario.html import write_html
from chain_client.apps.scenario.loader import ScenarioError
from chain_client.apps.scenario.report import dry_run_line, print_summary, write_json
from chain_client.apps.scenario.runner import StepFailed
from chain_client.apps.scenario.session import KEY_ENV, Outcome, RunOptions, prepare, run_scenario
from chain_client.display import OneLineParser
from chain_client.exceptions import ChainError
from chain_client.index import EventIndex, Indexer
from chain_client.interrupt import EXIT_INTERRUPTED, exit_with

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def build_parser(prog: str = "scf scenario") -> argparse.ArgumentParser:
    p = OneLineParser(
        prog=prog,
        description="Run a scripted supply chain (scripts/scenarios/*.yaml) on the embedded chain or a node, and "
        "report per tier, per lender and per receivable, with invariant checks.",
        epilog=f"With --rpc the operator's key comes from ${KEY_ENV} or --operator-key-file, and a journal lets the "
        "same command resume an interrupted run. Exit codes: 0 ok, 1 a check failed or a step was refused, 2 bad "
        "input (nothing sent), 130 interrupted.",
    )
    p.add_argument("file", type=Path, help="the scenario file (YAML)")
    p.add_argument("--rpc", metavar="URL", help="a JSON-RPC node instead of the embedded chain")
    add_operator_key_file(p)
    p.add_argument("--key-file", action=DeprecatedFlag, dest="operator_key_file", const="use --operator-key-file FILE")
    p.add_argument(
        "--journal", type=Path, metavar="FILE", help="journal file (default with --rpc: ./NAME.journal.json)"
    )
    p.add_argument("--seed", type=int, help="seed for the scenario's generator (overrides settings.seed)")
    p.add_argument("--report", type=Path, metavar="OUT.html", help="write a self-contained HTML report")
    p.add_argument("--json", type=Path, metavar="OUT.json", help="write the summary as JSON")
    p.add_argument(
        "--index",
        type=Path,
        metavar="FILE",
        help="write the run's events into this event index, for `scf tree/path/holdings/receivables --index FILE`",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar and no tables (exit code and files only)")
    p.add_argument("--dry-run", action="store_true", help="check the file and print the plan's size; send nothing")
    return p


def main(argv: Sequence[str] | None = None, *, prog: str = "scf scenario") -> int:
    try:
        return _main(argv, prog)
    except KeyboardInterrupt:  # one line, not a traceback through the runner and the chain
        _say(f"{prog}: interrupted")
        return EXIT_INTERRUPTED


def _main(argv: Sequence[str] | None, prog: str) -> int:
    args = build_parser(prog).parse_args(argv)
    out = Console(highlight=False, width=None if sys.stdout.isatty() else 160)
    err = Console(stderr=True, highlight=False)
    try:
        if args.dry_run:
            return _dry_run(args, out)
        key = _read_key(args.operator_key_file)
        if args.rpc and key is None and not os.environ.get(KEY_ENV):
            raise ScenarioError(
                [f"the operator's key is needed with --rpc: set {KEY_ENV} or give --operator-key-file FILE"]
            )
        if args.index and not args.rpc and args.index.exists():
            raise ScenarioError(
                [
                    f"{args.index} already exists: the embedded chain is new on every run, and so is its index "
                    "(give a new file)"
                ]
            )
        options = RunOptions(rpc=args.rpc, operator_key=key, journal=args.journal, seed=args.seed, quiet=args.quiet)
        outcome = run_scenario(args.file, options, console=err)
    except ScenarioError as exc:
        for problem in exc.problems:
            _say(problem)
        _say(f"{len(exc.problems)} problem{'s' * (len(exc.problems) > 1)}; nothing was sent")
        return EXIT_USAGE
    except StepFailed as exc:
        _say(str(exc))
        if args.rpc or args.journal:
            _say("the journal records the steps before it: run the same command again to resume from this step")
        return EXIT_FAILED
    except ChainError as exc:
        _say(f"chain error: {exc}")
        return EXIT_FAILED
    summary = outcome.summary
    if outcome.stats.nothing_to_send:
        _say("the journal records this run as finished: nothing was sent; reporting again")
    if not args.quiet:
        print_summary(out, summary)
    if args.report:
        started = time.monotonic()
        write_html(summary, args.report)
        summary.timings["writing the report"] = round(time.monotonic() - started, 2)
        if not args.quiet:
            out.print(f"report: {args.report.resolve()}", markup=False, soft_wrap=True)
    if args.json:
        write_json(summary, args.json)
    if args.index:
        try:
            _write_index(outcome, args.index)
        except (ChainError, ValueError, OSError, sqlite3.Error) as exc:
            _say(f"{args.index}: cannot write the index: {exc}")
            return EXIT_USAGE
        if not args.quiet:
            _print_index_hint(out, outcome, args.index)
    return EXIT_OK if summary.passed else EXIT_FAILED


def _write_index(outcome: Outcome, path: Path) -> None:
    """The run's events, as `scf index` would read them, and every member's name as a label for the queries."""
    with EventIndex(path) as index:
        Indexer(index, outcome.w3, outcome.record, start_block=outcome.record.block_number).sync()
        for address, name in outcome.accounts.names.items():
            index.set_label(address, name)


def _print_index_hint(out: Console, outcome: Outcome, path: Path) -> None:
    # One command per line and soft_wrap: a command is never broken across lines, whatever the terminal's width.
    shown = shlex.quote(str(path))
    out.print(f"index written to {path}; explore it with:", markup=False, soft_wrap=True)
    out.print(f"  scf receivables --index {shown}", markup=False, soft_wrap=True)
    for slot in list(outcome.plan.receivables.values())[:1]:
        out.print(f"  scf tree {slot:#x} --index {shown} --tiers", markup=False, soft_wrap=True)


def _say(line: str) -> None:
    """One unwrapped line on stderr (a problem must stay on one line, whatever the terminal's width)."""
    print(line, file=sys.stderr)


def _read_key(path: str | None) -> str | None:
    if path is None:
        return None
    try:
        return Path(path).read_text().strip()
    except OSError as exc:
        raise ScenarioError([f"{path}: cannot read the key file ({exc.strerror or exc})"]) from None


def _dry_run(args: argparse.Namespace, out: Console) -> int:
    source, plan = prepare(args.file, args.seed)
    out.print(dry_run_line(source.path.name, plan), markup=False)
    return EXIT_OK


if __name__ == "__main__":
    exit_with(main())
