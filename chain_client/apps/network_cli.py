"""`scf network …`: a network of real nodes. `init` writes one (geth Clique on this machine, or the Besu QBFT kit
for production), `up` / `down` / `status` run the geth one, `allowlist` writes Besu's account allow-list from
the on-chain Membership. The logic is in `chain_client.network`; this module only parses and prints."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from chain_client.network import besu, geth
from chain_client.network.keys import DEV_DEPLOYER


def add_network_parser(sub: argparse._SubParsersAction[Any]) -> None:
    p = sub.add_parser(
        "network",
        help="a network of real nodes: init, up, down, status, allowlist",
        description="A four-signer Clique network of geth v1.13.15 nodes on this machine (init, up, down, "
        "status), or the Hyperledger Besu QBFT kit for production (init --engine besu-qbft, allowlist).",
    )
    net = p.add_subparsers(
        dest="network_command", metavar="ACTION", required=True, parser_class=type(p), help="what to do"
    )

    q = net.add_parser("init", help="write a new network's keys, genesis and node directories")
    q.add_argument("--out", required=True, metavar="DIR", help="new (or empty) directory to write")
    q.add_argument("--engine", choices=[geth.ENGINE, besu.ENGINE], default=geth.ENGINE, help="default: clique")
    q.add_argument("--signers", type=int, help="Clique: how many signer nodes (default: 4)")
    q.add_argument("--validators", type=int, help="besu-qbft: how many validator nodes (default: 4)")
    q.add_argument("--chain-id", type=int, help="chain id (default: 202612 for clique, 202613 for besu-qbft)")
    q.add_argument("--period", type=int, default=geth.DEFAULT_PERIOD, help="Clique: seconds per block (default: 1)")
    q.add_argument("--http-port", type=int, default=geth.DEFAULT_HTTP_PORT, help="node 1's JSON-RPC port; node i "
                   "uses this + i - 1 (default: 8545)")  # fmt: skip
    q.add_argument("--p2p-port", type=int, default=geth.DEFAULT_P2P_PORT, help="Clique: node 1's p2p port "
                   "(default: 30303)")  # fmt: skip
    q.add_argument("--fund", action="append", metavar="ADDRESS", help="an account with ether at genesis "
                   "(repeatable; default: the development deployer of docs/real-nodes.md)")  # fmt: skip
    q.set_defaults(run=cmd_init)

    q = net.add_parser("up", help="start the nodes and wait until every signer seals")
    q.add_argument("dir", metavar="DIR", help="the directory `scf network init` wrote")
    q.add_argument("--node", action="append", metavar="NAME", help="only this node (repeatable), e.g. node3")
    q.add_argument(
        "--timeout", type=float, default=180.0, help="seconds to wait for the nodes to join and seal (default: 180)"
    )
    q.set_defaults(run=cmd_up)

    q = net.add_parser("down", help="stop the nodes")
    q.add_argument("dir", metavar="DIR", help="the directory `scf network init` wrote")
    q.add_argument("--node", action="append", metavar="NAME", help="only this node (repeatable)")
    q.add_argument("--kill", action="store_true", help="SIGKILL, as a crash would (default: a clean SIGTERM)")
    q.set_defaults(run=cmd_down)

    q = net.add_parser("status", help="each node: pid, head block, peers")
    q.add_argument("dir", metavar="DIR", help="the directory `scf network init` wrote")
    q.set_defaults(run=cmd_status)

    q = net.add_parser("allowlist", help="write Besu's account allow-list from the active members on chain")
    q.add_argument("dir", metavar="DIR", help="the kit written by `scf network init --engine besu-qbft`")
    q.add_argument("--rpc", required=True, metavar="URL", help="a node (or several, comma-separated)")
    q.add_argument("--deployment", required=True, metavar="FILE", help="deployment file written by `scf deploy`")
    q.add_argument("--follow", action="store_true", help="rewrite it on every membership change until Ctrl-C")
    q.add_argument("--interval", type=float, default=2.0, help="seconds between checks with --follow (default: 2)")
    q.set_defaults(run=cmd_allowlist)


def _console() -> Console:
    return Console(width=None if sys.stdout.isatty() else 160, highlight=False)


def cmd_init(args: argparse.Namespace) -> int:
    console = _console()
    fund = args.fund or [DEV_DEPLOYER]
    if args.engine == besu.ENGINE:
        if args.signers is not None:
            raise ValueError("--signers is for clique; besu-qbft has --validators")
        kit = besu.init_besu(
            args.out,
            validators=args.validators or 4,
            chain_id=args.chain_id or besu.DEFAULT_CHAIN_ID,
            http_port=args.http_port,
            fund=fund,
        )
        console.print(f"Besu QBFT kit for chain {kit.chain_id}: {len(kit.nodes)} validators in {args.out}")
        for v in kit.nodes:
            console.print(f"  {v.name}  validator {v.address}  {v.enode[:30]}…@{v.ip}  JSON-RPC :{v.http_port}")
        console.print(f"start it where Docker runs: (cd {args.out} && docker compose up -d)")
        return 0
    if args.validators is not None:
        raise ValueError("--validators is for besu-qbft; clique has --signers")
    network = geth.init_clique(
        args.out,
        signers=args.signers or 4,
        chain_id=args.chain_id or geth.DEFAULT_CHAIN_ID,
        period=args.period,
        http_port=args.http_port,
        p2p_port=args.p2p_port,
        fund=fund,
    )
    console.print(f"Clique network for chain {network.chain_id}: {len(network.nodes)} signers in {args.out}")
    for n in network.nodes:
        console.print(f"  {n.name}  signer {n.signer}  JSON-RPC {n.url}  p2p :{n.p2p_port}")
    console.print(f"start it: .venv/bin/scf network up {args.out}")
    return 0


def cmd_up(args: argparse.Namespace) -> int:
    network = geth.up(args.dir, names=args.node, timeout=args.timeout)
    _print_status(args.dir)
    _console().print(f"SCF_RPC={','.join(network.urls)}  (index with --confirmations {network.confirmations})")
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    stopped = geth.down(args.dir, names=args.node, kill=args.kill)
    _console().print(f"stopped {', '.join(stopped)}" if stopped else "no node was running")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    _print_status(args.dir)
    return 0


def _print_status(directory: str) -> None:
    table = Table(title=f"Clique network in {directory}")
    for column in ("node", "JSON-RPC", "signer", "pid", "block", "peers"):
        table.add_column(column)
    for row in geth.status(directory):
        running = row["pid"] is not None
        table.add_row(row["name"], row["url"], row["signer"], str(row["pid"]) if running else "stopped",
                      "" if row["block"] is None else str(row["block"]),
                      "" if row["peers"] is None else str(row["peers"]))  # fmt: skip
    _console().print(table)


def cmd_allowlist(args: argparse.Namespace) -> int:
    from chain_client.chain import connect
    from chain_client.client import ScfClient
    from chain_client.deploy import DeploymentRecord, load_contracts
    from chain_client.network.allowlist import AllowList, follow, write_allowlist

    console = _console()
    kit = besu.BesuNetwork.load(args.dir)
    record = DeploymentRecord.load(args.deployment)
    w3 = connect(args.rpc)
    scf = ScfClient(w3, load_contracts(w3, record))
    path = Path(args.dir) / besu.PERMISSIONS_FILE

    def show(allow: AllowList) -> None:
        console.print(f"block {allow.block}: {len(allow.accounts)} active members allowed to send; wrote {path}")

    if not args.follow:
        show(write_allowlist(scf, record, kit))
        return 0
    try:
        follow(scf, record, kit, interval=args.interval, on_change=show)
    except KeyboardInterrupt:
        console.print("stopped")
    return 0
