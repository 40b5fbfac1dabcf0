"""`scf scenario FILE` (and `python -m chain_client.scenario FILE`): run a scenario file and report.

Exit codes: 0 every invariant holds; 1 an invariant failed or the chain refused a step; 2 the file, the options
or the journal are wrong (one line per problem, nothing sent).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from rich.console import Console

from chain_client.exceptions import ChainError
from chain_client.scenario.html import write_html
from chain_client.scenario.loader import ScenarioError
from chain_client.scenario.report import print_summary, write_json
from chain_client.scenario.runner import StepFailed
from chain_client.scenario.session import KEY_ENV, RunOptions, prepare, run_scenario

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser(prog: str = "scf scenario") -> argparse.ArgumentParser:
    p = _Parser(
        prog=prog,
        description="Run a scripted supply chain (scripts/scenarios/*.yaml) on the embedded chain or a node, and "
        "report per tier, per lender and per receivable, with invariant checks.",
        epilog=f"With --rpc the operator's key comes from ${KEY_ENV} or --key-file, and a journal lets the same "
        "command resume an interrupted run. Exit codes: 0 ok, 1 a check failed or a step was refused, 2 bad input "
        "(nothing sent).",
    )
    p.add_argument("file", type=Path, help="the scenario file (YAML)")
    p.add_argument("--rpc", metavar="URL", help="a JSON-RPC node instead of the embedded chain")
    p.add_argument("--key-file", type=Path, metavar="FILE", help=f"file holding the operator's hex key (or ${KEY_ENV})")
    p.add_argument(
        "--journal", type=Path, metavar="FILE", help="journal file (default with --rpc: ./NAME.journal.json)"
    )
    p.add_argument("--seed", type=int, help="seed for the scenario's generator (overrides settings.seed)")
    p.add_argument("--report", type=Path, metavar="OUT.html", help="write a self-contained HTML report")
    p.add_argument("--json", type=Path, metavar="OUT.json", help="write the summary as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress bar and no tables (exit code and files only)")
    p.add_argument("--dry-run", action="store_true", help="check the file and print the plan's size; send nothing")
    return p


def main(argv: Sequence[str] | None = None, *, prog: str = "scf scenario") -> int:
    args = build_parser(prog).parse_args(argv)
    out = Console(highlight=False, width=None if sys.stdout.isatty() else 160)
    err = Console(stderr=True, highlight=False)
    try:
        if args.dry_run:
            return _dry_run(args, out)
        key = _read_key(args.key_file)
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
    if args.json:
        write_json(summary, args.json)
    if args.report:
        write_html(summary, args.report)
        if not args.quiet:
            out.print(f"report: {args.report.resolve()}", markup=False)
    return EXIT_OK if summary.passed else EXIT_FAILED


def _say(line: str) -> None:
    """One unwrapped line on stderr (a problem must stay on one line, whatever the terminal's width)."""
    print(line, file=sys.stderr)


def _read_key(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        return path.read_text().strip()
    except OSError as exc:
        raise ScenarioError([f"{path}: cannot read the key file ({exc.strerror or exc})"]) from None


def _dry_run(args: argparse.Namespace, out: Console) -> int:
    source, plan = prepare(args.file, args.seed)
    out.print(
        f"{source.path.name}: {len(plan.members)} members, {len(plan.receivables)} receivables, "
        f"{len(plan.steps) - 1} steps -> {plan.transactions:,} transactions, {plan.operations:,} operations; "
        "no problems found",
        markup=False,
    )
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
