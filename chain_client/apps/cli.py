"""`scf`: the command line. Deploy, index, and ask the index about receivables, fragments and holders.

The embedded chain lives inside one process, so commands that talk to a chain across processes take
`--rpc URL --deployment FILE`; the queries (`tree`, `path`, `holdings`, `receivables`, `tiers`) read only the
index file and need no chain at all. Every failure is one line on stderr and a non-zero exit code.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sqlite3
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import NoReturn, cast

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak
from rich.console import Console
from rich.table import Table
from rich.tree import Tree
from web3 import Web3
from web3.exceptions import Web3Exception

from chain_client.apps.network_cli import add_network_parser
from chain_client.chain import accounts_of, chain_of, connect, is_embedded, new_account
from chain_client.client import ScfClient
from chain_client.constants import DAY
from chain_client.deploy import CONTRACT_NAMES, DeploymentRecord, deploy_all, load_contracts, record_of
from chain_client.devchain import now
from chain_client.display import OneLineParser, short_slot
from chain_client.exceptions import ChainError
from chain_client.ids import MAX_SEQUENCE, sequence_of, slot_of, token_id_of
from chain_client.index import EventIndex, FragmentNode, Indexer, ReceivableTree, SyncReport, reconcile
from chain_client.interrupt import EXIT_INTERRUPTED, exit_with
from chain_client.membership import Role
from chain_client.money import format_fen, parse_yuan
from chain_client.receivables import ReceivableState
from chain_client.words import counted

DEFAULT_INDEX = "scf-index.sqlite"
DEFAULT_DEPLOYMENT = "deployment.json"
KEY_ENV = "SCF_OPERATOR_KEY"
DEMO_CREDIT_LINE = 50_000_000_00  # fen: `scf demo`'s core enterprise may confirm up to ¥50,000,000.00
_CONTRACTS_TEXT = ", ".join(CONTRACT_NAMES[:-1]) + " and " + CONTRACT_NAMES[-1]  # what `deploy_all` deploys


def add_operator_key_file(p: argparse.ArgumentParser) -> None:
    """The one spelling, in every `scf` command, of where the operator's signing key comes from."""
    p.add_argument(
        "--operator-key-file",
        metavar="FILE",
        help=f"file holding the operator's hex private key, for --rpc (or set ${KEY_ENV})",
    )


class UsageError(ChainError, ValueError):
    """A bad argument found after parsing (exit code 2, like argparse's own)."""


class DeprecatedFlag(argparse.Action):
    """An old spelling of a flag: still works, says in one line on stderr which flag replaces it, and is left out
    of `--help`. `const` is the message's advice, e.g. "use --operator-key-file FILE"."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: object) -> None:
        kwargs.setdefault("help", argparse.SUPPRESS)
        super().__init__(option_strings, dest, **kwargs)  # type: ignore[arg-type]

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[object] | None,
        option_string: str | None = None,
    ) -> None:
        print(f"{parser.prog}: {option_string} is deprecated: {self.const}", file=sys.stderr)
        setattr(namespace, self.dest, values)


class JoinedUrls(argparse.Action):
    """`--rpc` given more than once: the URLs joined with commas, as `connect()` takes several nodes."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[object] | None,
        option_string: str | None = None,
    ) -> None:
        given = getattr(namespace, self.dest, None)
        joined = f"{given},{values}" if given and given != self.default else str(values)
        setattr(namespace, self.dest, joined)


def read_key_file(path: str | Path) -> str:
    """The hex private key held in a file (whitespace around it ignored); `UsageError` if it cannot be read."""
    try:
        return Path(path).read_text().strip()
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the key file ({exc.strerror or exc})") from None


# ---------------------------------------------------------------------------------------------- helpers


def _console() -> Console:
    # Pipes get a wide console: rich would otherwise wrap at 80 columns mid-address.
    return Console(width=None if sys.stdout.isatty() else 160, highlight=False)


def _connect(url: str) -> Web3:
    w3 = connect(url)
    if not w3.is_connected():
        raise ChainError(f"no JSON-RPC node answers at {url}")
    return w3


def _key(args: argparse.Namespace) -> LocalAccount:
    text = read_key_file(args.operator_key_file) if args.operator_key_file else args.key or os.environ.get(KEY_ENV)
    if not text:
        raise UsageError(f"the operator's key is needed with --rpc: set {KEY_ENV} or give --operator-key-file FILE")
    try:
        account: LocalAccount = Account.from_key(text)
    except Exception:
        raise UsageError("the operator key is not a 32-byte hex private key") from None
    return account


def _record(path: str) -> DeploymentRecord:
    if not Path(path).exists():
        raise UsageError(f"no deployment file at {path} (`scf deploy --rpc URL` writes one; or give --deployment)")
    try:
        return DeploymentRecord.load(path)
    except (ValueError, KeyError, TypeError) as exc:
        raise UsageError(f"{path} is not a deployment file ({type(exc).__name__}: {exc})") from None


def _open_index(path: str) -> EventIndex:
    if path != ":memory:" and not Path(path).exists():
        raise UsageError(f"no index at {path} (run `scf index --rpc URL --deployment FILE` first, or give --index)")
    return EventIndex(path, create=False)


def _number(text: str, what: str) -> int:
    try:
        return int(text, 16) if text.lower().startswith("0x") else int(text)
    except ValueError:
        raise UsageError(f"not a {what}: {text!r} (give a decimal number or 0x-hex)") from None


def _account_arg(index: EventIndex, text: str) -> str:
    try:
        return index.account_of(text)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _slot_arg(index: EventIndex, text: str) -> int:
    slot = index.resolve_slot(_number(text, "slot, document hash or token id"))
    if slot is None:
        raise UsageError(f"no receivable {text} in the index")
    return slot


def _token_arg(text: str) -> int:
    """A token id, or SLOT#SEQUENCE."""
    if "#" in text:
        slot_text, _, seq_text = text.partition("#")
        slot, seq = _number(slot_text, "slot"), _number(seq_text, "sequence")
        if not 0 < seq <= MAX_SEQUENCE:
            raise UsageError(f"not a fragment sequence: {seq_text!r}")
        try:
            return token_id_of(slot, seq)
        except ValueError as exc:  # a slot wider than 224 bits
            raise UsageError(f"not a receivable slot: {slot_text!r} ({exc})") from None
    return _number(text, "token id")


def _date(text: str) -> int:
    if text.isdigit():
        return int(text)
    try:
        return int(datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC).timestamp())
    except ValueError:
        raise UsageError(f"not a date: {text!r} (give YYYY-MM-DD or unix seconds)") from None


def _when(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M")


def _day(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d")


class _Names:
    def __init__(self, index: EventIndex) -> None:
        self.labels = index.labels()

    def __call__(self, address: str) -> str:
        return self.labels.get(address, address)


# ---------------------------------------------------------------------------------------------- rendering


def render_tree(tree: ReceivableTree, names: _Names) -> Tree:
    """The split tree: every fragment under the one it was split from, with tier, holder and value."""
    r = tree.receivable
    title = (
        f"[bold]Receivable {short_slot(r.slot)}[/bold]  owed by {names(r.debtor)}  face {format_fen(r.face_value)}  "
        f"state {r.state.name.lower()}  matures {_day(r.maturity)}"
    )
    root = Tree(title)

    def label(f: FragmentNode) -> str:
        text = f"#{f.sequence}  tier {f.tier}  {names(f.owner)}  {format_fen(f.value)}"
        flags = [n for n, on in (("frozen", f.frozen), ("financed", f.financed)) if on]
        if f.burned:
            text = f"[dim]#{f.sequence}  tier {f.tier}  {names(f.owner)}  redeemed or withdrawn[/dim]"
        if flags:
            text += "  [" + ", ".join(flags) + "]"
        return text

    def add(node: Tree, parent: int) -> None:
        for f in tree.children.get(parent, []):
            add(node.add(label(f)), f.sequence)

    add(root, 0)
    live = sum(f.value for f in tree.live)
    if r.redeemed_value:
        root.add(
            f"[dim]live fragments {format_fen(live)} + redeemed {format_fen(r.redeemed_value)} = face value: "
            f"{live + r.redeemed_value == r.face_value}[/dim]"
        )
    else:
        root.add(f"[dim]live fragments sum to {format_fen(live)} = face value: {live == r.face_value}[/dim]")
    return root


# ---------------------------------------------------------------------------------------------- commands


def cmd_deploy(args: argparse.Namespace) -> int:
    console = _console()
    if args.rpc:
        operator = _key(args)  # before connecting: a missing key is found without a network round trip
        w3 = _connect(args.rpc)
        chain_of(w3).add_account(operator)
    else:
        w3 = connect()
        operator = accounts_of(w3)[0]
    contracts = deploy_all(w3, operator, max_tenor=args.max_tenor_days * DAY)
    record = record_of(w3, contracts, operator=operator.address)
    record.save(args.out)
    table = Table(title=f"Deployed on chain {record.chain_id} at block {record.block_number}")
    table.add_column("contract")
    table.add_column("address")
    for name, address in record.addresses.items():
        table.add_row(name, address)
    console.print(table)
    console.print(f"operator {operator.address}; deployment written to {args.out}")
    if not args.rpc:
        console.print("[dim]The embedded chain ends with this command: use --rpc URL for a lasting deployment.[/dim]")
    return 0


def cmd_index(args: argparse.Namespace) -> int:
    console = _console()
    record = _record(args.deployment)
    w3 = _connect(args.rpc)
    if record.chain_id != w3.eth.chain_id:
        raise UsageError(
            f"{args.deployment} is for chain {record.chain_id}, the node at {args.rpc} is chain {w3.eth.chain_id}"
        )
    index = EventIndex(args.index)
    indexer = Indexer(
        index, w3, record, confirmations=args.confirmations, start_block=args.from_block, batch_blocks=args.batch
    )

    def show(report: SyncReport) -> None:
        if not args.follow or report.logs or report.rewound_to is not None:
            console.print(str(report))

    if not args.follow:
        show(indexer.sync())
        return 0
    console.print(f"following {args.rpc} every {args.interval:g} s into {args.index} (Ctrl-C stops)")

    def unreachable(exc: BaseException) -> None:
        print(f"scf index: node unreachable, retrying: {_one_line(exc)}", file=sys.stderr)

    try:
        indexer.follow(args.interval, on_sync=show, on_unreachable=unreachable)
    except KeyboardInterrupt:
        console.print(f"stopped at block {index.synced_block}")
    return 0


def cmd_reconcile(args: argparse.Namespace) -> int:
    console = _console()
    record = _record(args.deployment)
    index = _open_index(args.index)
    w3 = _connect(args.rpc)
    scf = ScfClient(w3, load_contracts(w3, record))
    if args.sync:
        Indexer(index, w3, record).sync()
    diffs = reconcile(index, scf)
    block = index.synced_block
    for d in diffs:
        console.print(str(d), markup=False)
    receivables = len(index.receivables())
    if diffs:
        console.print(f"{len(diffs)} difference(s) between the index and the chain at block {block}")
        return 1
    console.print(f"index and chain agree at block {block} ({receivables} receivables checked)")
    return 0


def cmd_tree(args: argparse.Namespace) -> int:
    index = _open_index(args.index)
    slot = _slot_arg(index, args.slot)
    tree = index.tree(slot)
    assert tree is not None
    console = _console()
    console.print(render_tree(tree, _Names(index)))
    if args.tiers:
        _print_tiers(console, index, slot)
    return 0


def _print_tiers(console: Console, index: EventIndex, slot: int) -> None:
    table = Table(title=f"Value by tier, receivable {short_slot(slot)}")
    for column in ("tier", "fragments", "holders", "value", "of which financed"):
        table.add_column(column, justify="right")
    for t in index.tier_totals(slot):
        table.add_row(str(t.tier), str(t.fragments), str(t.holders), format_fen(t.value), format_fen(t.financed_value))
    console.print(table)


def cmd_tiers(args: argparse.Namespace) -> int:
    index = _open_index(args.index)
    _print_tiers(_console(), index, _slot_arg(index, args.slot))
    return 0


def cmd_path(args: argparse.Namespace) -> int:
    index = _open_index(args.index)
    token_id = _token_arg(args.token)
    if index.fragment(token_id) is None:
        raise UsageError(f"no fragment {args.token} in the index")
    names = _Names(index)
    hops = index.path_to_root(token_id)
    table = Table(
        title=f"Path of fragment #{sequence_of(token_id)} of receivable {short_slot(slot_of(token_id))} to its root"
    )
    for column in ("#", "tier", "holder", "value now", "split off", "paid out by", "memo", "time (UTC)"):
        table.add_column(column)
    for h in hops:
        table.add_row(
            str(sequence_of(h.token_id)),
            str(h.tier),
            names(h.holder) + (" (burned)" if h.burned else ""),
            format_fen(h.value),
            format_fen(h.created_value),
            names(h.from_holder),
            (h.memo or "")[:12] + ("…" if h.memo else ""),
            _when(h.block_time),
        )
    _console().print(table)
    return 0


def cmd_holdings(args: argparse.Namespace) -> int:
    index = _open_index(args.index)
    account = _account_arg(index, args.account)
    names = _Names(index)
    held = index.holdings(account)
    table = Table(title=f"Fragments held by {names(account)}")
    for column in ("receivable", "#", "value", "tier", "state", "matures", "debtor", "flags"):
        table.add_column(column, justify="right" if column == "value" else "left")
    for h in held:
        flags = ", ".join(n for n, on in (("frozen", h.frozen), ("financed", h.financed)) if on)
        table.add_row(
            short_slot(h.slot),
            str(sequence_of(h.token_id)),
            format_fen(h.value),
            str(h.tier),
            h.state.name.lower(),
            _day(h.maturity),
            names(h.debtor),
            flags,
        )
    console = _console()
    console.print(table)
    console.print(f"{counted(len(held), 'fragment')}, {format_fen(sum(h.value for h in held))} in total")
    return 0


def cmd_receivables(args: argparse.Namespace) -> int:
    index = _open_index(args.index)
    state = None
    if args.state:
        try:
            state = ReceivableState[args.state.upper()]
        except KeyError:
            raise UsageError(f"not a state: {args.state!r}") from None
    rows = index.receivables(
        debtor=_account_arg(index, args.debtor) if args.debtor else None,
        state=state,
        matures_from=_date(args.matures_from) if args.matures_from else None,
        matures_to=_date(args.matures_to) if args.matures_to else None,
        min_value=parse_yuan(args.min_value) if args.min_value else None,
    )
    names = _Names(index)
    table = Table(title="Receivables")
    for column in ("slot", "debtor", "face value", "state", "matures", "fragments", "repaid"):
        table.add_column(column)
    for r in rows:
        table.add_row(
            f"{r.slot:#x}",
            names(r.debtor),
            format_fen(r.face_value),
            r.state.name.lower(),
            _day(r.maturity),
            str(r.live_fragments),
            format_fen(r.repaid),
        )
    console = _console()
    console.print(table)
    console.print(f"{len(rows)} receivable(s)")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    console = _console()
    if args.index != ":memory:" and Path(args.index).exists():
        raise UsageError(f"{args.index} already exists: the demo writes a new index (give another --index)")
    if args.rpc:
        operator = _key(args)  # before connecting: a missing key is found without a network round trip
        w3 = _connect(args.rpc)
        chain_of(w3).add_account(operator)
    else:
        w3 = connect()
        operator = accounts_of(w3)[0]
    console.print("[bold]1.[/bold] Deploying " + _CONTRACTS_TEXT)
    scf = ScfClient(w3, deploy_all(w3, operator))
    if args.out:
        record_of(w3, scf.contracts, operator.address).save(args.out)
    index = EventIndex(args.index)
    slot = run_demo(scf, operator, index, console)
    Indexer(index, w3, scf.contracts).sync()
    tree = index.tree(slot)
    assert tree is not None
    console.print()
    console.print(render_tree(tree, _Names(index)))
    _print_tiers(console, index, slot)
    console.print(f"slot {slot:#x}")
    if args.index != ":memory:":
        # soft_wrap: the command stays on one line however narrow the terminal, so it can be copied whole.
        console.print(f"index written to {args.index}; try:", markup=False)
        console.print(f"  scf tree {slot:#x} --index {shlex.quote(args.index)}", soft_wrap=True, markup=False)
    return 0


def run_demo(scf: ScfClient, operator: LocalAccount, index: EventIndex, console: Console) -> int:
    """The three-tier story of the README; returns the receivable's slot. Names go into the index's labels."""
    w3 = scf.w3
    cast_names = (
        "Huazhong Heavy Industry",
        "Jiangcheng Steel",
        "Hanyang Castings",
        "Wuchang Bearings",
        "Qingshan Fasteners",
        "Hongshan Paints",
        "Jiangxia Packaging",
    )
    gas_money = scf.tx.funding_for(1_000)  # at the node's fee cap; 0 on a free-gas chain
    parties = [new_account(w3, fund_wei=gas_money, funder=operator) for _ in cast_names]
    core, t1, t2a, t2b, t3a, t3b, t3c = parties
    index.set_label(operator.address, "Platform operator")
    for name, p in zip(cast_names, parties, strict=True):
        index.set_label(p.address, name)
    scf.membership.admit(operator, core.address, Role.CORE_ENTERPRISE)
    for p in parties[1:]:
        scf.membership.admit(operator, p.address, Role.SUPPLIER)
    scf.receivables.set_credit_line(operator, core.address, DEMO_CREDIT_LINE)
    console.print(f"   admitted 1 core enterprise (credit line {format_fen(DEMO_CREDIT_LINE)}) and 6 suppliers")
    rt = scf.receivables
    documents = "Invoice HZ-2026-0815 / contract HZ-C-7781 / delivery note 55120"
    if not is_embedded(w3):  # a lasting chain refuses the same documents twice: make each run's unique
        documents += f" / run {os.urandom(8).hex()}"
    invoice = keccak(text=documents)
    issued = rt.issue(core, t1.address, 1_000_000_00, now(w3) + 180 * DAY, invoice)
    console.print(
        f"[bold]2.[/bold] Huazhong Heavy Industry confirms {format_fen(1_000_000_00)} owed to Jiangcheng Steel"
    )
    rt.accept(t1, issued.token_id)
    console.print("[bold]3.[/bold] Jiangcheng Steel accepts the voucher")
    paid = rt.split(
        t1,
        issued.token_id,
        [(t2a.address, 300_000_00), (t2b.address, 200_000_00)],
        keccak(text="PO JC-2026-031 and JC-2026-032"),
    )
    console.print(
        f"[bold]4.[/bold] Jiangcheng Steel pays two tier-2 suppliers in one transaction ({paid.gas_used:,} gas)"
    )
    to_t2a, to_t2b = paid.new_token_ids
    rt.split(t2a, to_t2a, [(t3a.address, 120_000_00), (t3b.address, 45_678_90)], keccak(text="PO HY-2026-117"))
    single = rt.transfer_value(t2b, to_t2b, t3c.address, 50_000_00)
    console.print(f"[bold]5.[/bold] Tier 2 pays tier 3 (a single split costs {single.gas_used:,} gas)")
    return issued.slot


# ---------------------------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    env = os.environ.get
    parser = OneLineParser(
        prog="scf",
        description="Supply-chain finance on an EVM chain: deploy, index events, trace receivables.",
        epilog="Queries (tree, path, holdings, receivables, tiers) read only the index file. "
        "Environment: SCF_RPC, SCF_DEPLOYMENT, SCF_INDEX, SCF_OPERATOR_KEY.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)

    def index_opt(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--index",
            default=env("SCF_INDEX", DEFAULT_INDEX),
            help=f"index file (default: $SCF_INDEX or {DEFAULT_INDEX})",
        )

    def deployment_opt(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--deployment",
            default=env("SCF_DEPLOYMENT", DEFAULT_DEPLOYMENT),
            help=f"deployment file written by `scf deploy` (default: $SCF_DEPLOYMENT or {DEFAULT_DEPLOYMENT})",
        )

    def rpc_opt(p: argparse.ArgumentParser, *, required: bool) -> None:
        default = env("SCF_RPC")
        p.add_argument(
            "--rpc",
            metavar="URL",
            default=default,
            action=JoinedUrls,
            required=required and default is None,
            help="JSON-RPC node URL; several nodes of one network comma-separated or repeated, tried in turn "
            "(default: $SCF_RPC)" + ("" if required else "; without it, the embedded chain"),
        )

    def key_opt(p: argparse.ArgumentParser) -> None:
        add_operator_key_file(p)
        p.add_argument(  # the key itself on the command line: visible to every user in `ps`
            "--key",
            action=DeprecatedFlag,
            const=f"put the key in a file and give --operator-key-file FILE (or set ${KEY_ENV})",
        )

    p = sub.add_parser(
        "deploy",
        help="deploy the contracts and write a deployment file",
        description=f"Deploy {_CONTRACTS_TEXT} (the operator becomes the first member) and write a deployment "
        "file that other commands and processes use.",
    )
    rpc_opt(p, required=False)
    key_opt(p)
    p.add_argument(
        "--out", default=DEFAULT_DEPLOYMENT, help=f"deployment file to write (default: {DEFAULT_DEPLOYMENT})"
    )
    p.add_argument("--max-tenor-days", type=int, default=365, help="longest issue-to-maturity time (default: 365)")
    p.set_defaults(run=cmd_deploy)

    p = sub.add_parser(
        "index",
        help="read new events into the index (once, or --follow)",
        description="Read every event of the deployment since the last indexed block into the SQLite index. "
        "Rows that went missing and chain reorganisations are repaired on the way.",
    )
    rpc_opt(p, required=True)
    deployment_opt(p)
    index_opt(p)
    p.add_argument("--confirmations", type=_non_negative, default=0, help="index only blocks this deep (default: 0)")
    p.add_argument("--follow", action="store_true", help="keep indexing new blocks until Ctrl-C")
    p.add_argument("--interval", type=float, default=2.0, help="seconds between rounds with --follow (default: 2)")
    p.add_argument("--from-block", type=_non_negative, help="first block of a new index (default: the deployment's)")
    p.add_argument("--batch", type=_positive, default=2000, help="blocks per eth_getLogs call (default: 2000)")
    p.set_defaults(run=cmd_index)

    p = sub.add_parser(
        "reconcile",
        help="compare the index with the chain; exit 1 on any difference",
        description="Compare every receivable, fragment, holder count, member, credit line and cash balance in the "
        "index with the chain's state at the index's last block. Prints each difference; exit code 1 if any.",
    )
    rpc_opt(p, required=True)
    deployment_opt(p)
    index_opt(p)
    p.add_argument("--sync", action="store_true", help="index new blocks first")
    p.set_defaults(run=cmd_reconcile)

    p = sub.add_parser(
        "tree",
        help="the split tree of a receivable, with tiers and holders",
        description="Print every fragment of a receivable under the fragment it was split from (穿透式追溯).",
    )
    p.add_argument(
        "slot", metavar="SLOT", help="slot (decimal or 0x-hex), document hash, or id of any of its fragments"
    )
    p.add_argument("--tiers", action="store_true", help="also print the value held at each tier")
    index_opt(p)
    p.set_defaults(run=cmd_tree)

    p = sub.add_parser("tiers", help="value held at each tier of a receivable", description="Per-tier totals.")
    p.add_argument("slot", metavar="SLOT", help="slot, document hash, or id of any of its fragments")
    index_opt(p)
    p.set_defaults(run=cmd_tiers)

    p = sub.add_parser(
        "path",
        help="a fragment's path back to the confirmed receivable",
        description="Each hop from a fragment back to the one issued to the supplier: holder, value, memo, time.",
    )
    p.add_argument("token", metavar="TOKEN", help="token id (decimal or 0x-hex) or SLOT#SEQUENCE")
    index_opt(p)
    p.set_defaults(run=cmd_path)

    p = sub.add_parser(
        "holdings",
        help="fragments an account holds",
        description="Live fragments held by an account: value, tier, state, maturity, debtor.",
    )
    p.add_argument("account", metavar="ACCOUNT", help="address, or a name the index knows")
    index_opt(p)
    p.set_defaults(run=cmd_holdings)

    p = sub.add_parser(
        "receivables",
        help="receivables by debtor, state, maturity and value",
        description="Receivables in the index, filtered; all filters are optional and combine.",
    )
    p.add_argument("--debtor", help="address or name of the core enterprise")
    p.add_argument("--state", help="pending, active, matured, repaid, overdue, rejected or cancelled")
    p.add_argument("--matures-from", metavar="DATE", help="maturity on or after (YYYY-MM-DD or unix seconds)")
    p.add_argument("--matures-to", metavar="DATE", help="maturity on or before (YYYY-MM-DD or unix seconds)")
    p.add_argument("--min-value", metavar="YUAN", help="least face value, in yuan (e.g. 100000 or 1,000.50)")
    index_opt(p)
    p.set_defaults(run=cmd_receivables)

    p = sub.add_parser(
        "demo",
        help="the three-tier demo, printed from the index",
        description="Run the README's three-tier supply chain (embedded chain, or --rpc URL with an operator key "
        "that has gas), index its events and print the receivable's split tree from the index.",
    )
    rpc_opt(p, required=False)
    key_opt(p)
    p.add_argument("--index", default=":memory:", help="write the index to this new file (default: in memory)")
    p.add_argument("--out", help="also write the deployment file (useful with --rpc)")
    p.set_defaults(run=cmd_demo)
    add_network_parser(sub)
    # Tools with parsers of their own: `scf NAME ...` hands the rest of the line to them (see `main`).
    sub.add_parser(
        "scenario", help="run a scripted supply chain from a YAML file (see `scf scenario --help`)", add_help=False
    )
    for name, ep in added_commands().items():
        sub.add_parser(name, help=_added_help(name, ep), add_help=False)
    return parser


def _scenario(argv: list[str]) -> int:
    """`scf scenario`; imported only when run, so `scf tree` does not load the scenario engine."""
    from chain_client.apps.scenario.cli import main as scenario_main

    return scenario_main(argv)


# Commands that other installed packages add to `scf` (the lender API adds `serve`, see pyproject.toml): each
# entry point of this group names a function that runs the command on the rest of the line and returns its exit
# code; the first line of its docstring is its help. So `scf` offers the API without importing it: the API sits
# above these applications, and a client installed without the `api` extra still has a working `scf`.
COMMAND_GROUP = "scf.commands"


def added_commands() -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=COMMAND_GROUP)}


def _added_help(name: str, ep: EntryPoint) -> str:
    try:
        run = ep.load()
    except ImportError as exc:  # a broken add-on must not take `scf tree` down with it
        return f"unavailable: {exc}"
    summary = ((run.__doc__ or "").strip().splitlines() or [ep.value])[0].rstrip(".")
    return f"{summary[:1].lower()}{summary[1:]} (see `scf {name} --help`)"


def _run_added(ep: EntryPoint, argv: list[str]) -> int:
    run = cast(Callable[[list[str]], int], ep.load())
    return run(argv)


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more: {value}")
    return value


def _positive(text: str) -> int:
    value = _non_negative(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."


def main(argv: Sequence[str] | None = None) -> int:
    line = list(sys.argv[1:] if argv is None else argv)
    try:
        if line and line[0] == "scenario":
            return _scenario(line[1:])
        added = added_commands()
        if line and line[0] in added:
            return _run_added(added[line[0]], line[1:])
        return _main(line)
    except KeyboardInterrupt:  # Ctrl-C anywhere (a delegated tool, parsing, a chain call): one line, not a traceback
        print(f"scf{' ' + line[0] if line and not line[0].startswith('-') else ''}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _main(line: list[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(line)
    if args.command is None:
        parser.print_help()
        return 2
    prog = f"scf {args.command}"
    try:
        code: int = args.run(args)
        return code
    except UsageError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        if not _expected(exc):
            raise  # a bug: the traceback helps more than a line would
        print(f"{prog}: error: {_one_line(exc)}", file=sys.stderr)
        return 1


def _expected(exc: Exception) -> bool:
    """Failures a user can cause or meet: the chain refused, the node is unreachable, a file is wrong."""
    return isinstance(exc, ChainError | ValueError | OSError | sqlite3.Error | Web3Exception)


def entry() -> NoReturn:
    """The `scf` console script: main(), then exit without a Ctrl-C traceback during teardown."""
    exit_with(main())


if __name__ == "__main__":
    entry()
