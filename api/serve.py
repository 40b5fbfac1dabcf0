"""`scf serve` (or `python -m api`): run the lender API.

    scf serve                          # embedded chain, seeded with a demo supply chain; prints API keys
    scf serve --keys-out keys.json     # ... and writes them (with the demo's signing keys) to a file
    scf serve --rpc URL --deployment deployment.json --keys-file keys.json   # a real node

The embedded chain lives inside this process, so this process is its only door: everything else (the
lender demo, curl) talks to it over HTTP.
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

from api.keystore import KeystoreError
from api.settings import ENV_DEPLOYMENT, ENV_INDEX, ENV_KEYS_FILE, ENV_RPC, ENV_STORE, Settings, write_members
from chain_client.chain import accounts_of, connect
from chain_client.client import ScfClient
from chain_client.deploy import DeploymentRecord, deploy_all, load_contracts
from chain_client.display import OneLineParser
from chain_client.exceptions import ChainError
from chain_client.index import EventIndex
from chain_client.pricing import DayCount

# The web stack (FastAPI, uvicorn) is imported only once the arguments are parsed: `scf` loads this module to
# list `serve` in its help, `scf serve --help` works without it, and a client installed without the `api` extra
# is told in one line how to add it.
if TYPE_CHECKING:
    from api.context import ApiContext
    from api.seed import DemoChain

WEB_STACK = ("fastapi", "fastapi_offline", "starlette", "uvicorn")
INSTALL_HINT = "pip install 'scf-chain[api]'"

DEFAULT_STORE = "scf-api.sqlite"
LENDER_DEMO = Path(__file__).resolve().parent.parent / "scripts" / "lender_demo.py"


class UsageError(ChainError, ValueError):
    """A bad argument or configuration: one line on stderr, exit code 2."""


def build_parser(prog: str = "scf serve") -> argparse.ArgumentParser:
    p = OneLineParser(prog=prog, description="Serve the SCF lender API (OpenAPI at /docs).")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this machine only)")
    p.add_argument("--port", type=int, default=8000, help="TCP port to listen on (default: 8000)")
    env = os.environ.get
    p.add_argument("--rpc", metavar="URL", default=env(ENV_RPC), help=f"a JSON-RPC node (env {ENV_RPC})")
    p.add_argument("--deployment", metavar="FILE", help=f"deployment record, with --rpc (env {ENV_DEPLOYMENT})")
    p.add_argument("--keys-file", metavar="FILE", help=f"API keys and accounts, with --rpc (env {ENV_KEYS_FILE})")
    p.add_argument("--keys-out", metavar="FILE", help="embedded chain: write the generated keys file here")
    p.add_argument(
        "--store",
        metavar="FILE",
        help=f"the API's SQLite store, with --rpc (env {ENV_STORE}; default {DEFAULT_STORE}); the embedded chain "
        "uses a temporary one, removed on exit",
    )
    p.add_argument("--index", metavar="FILE", help=f"the API's own event index (env {ENV_INDEX}; default: in memory)")
    p.add_argument(
        "--day-count",
        choices=[d.value for d in DayCount],
        default=DayCount.ACT_360.value,
        help="day-count basis of quotes and discounts (default: %(default)s)",
    )
    p.add_argument(
        "--seed-fragments",
        type=int,
        metavar="N",
        help="embedded chain, development and benchmarks only: also seed a receivable split into N fragments held "
        "by 50 suppliers, and index it before serving (bench.py api --fragments N)",
    )
    p.add_argument(
        "--log-level",
        default="warning",
        choices=["critical", "error", "warning", "info", "debug"],
        help="uvicorn's log level (default: %(default)s)",
    )
    return p


def _embedded(args: argparse.Namespace, store_dir: Path, console: Console) -> ApiContext:
    from api.context import ApiContext, Members
    from api.seed import MAX_SEED_FRAGMENTS, seed_demo, seed_fragments, submit_requests
    from api.store import RequestStore

    if args.keys_file or args.deployment:  # (their environment variables are read only with --rpc)
        raise UsageError("--keys-file and --deployment go with --rpc; the embedded chain makes its own")
    if args.seed_fragments is not None and not 2 <= args.seed_fragments <= MAX_SEED_FRAGMENTS:
        raise UsageError(f"--seed-fragments takes 2 to {MAX_SEED_FRAGMENTS:,} fragments, not {args.seed_fragments:,}")
    if args.store:
        # The embedded chain dies with this process; a store kept past it would list requests of a lost chain.
        raise UsageError("--store goes with --rpc: the embedded chain is new on every start, and so is its store")
    w3 = connect()
    operator = accounts_of(w3)[0]
    console.print("Deploying the contracts on the embedded chain and seeding a demo supply chain ...")
    scf = ScfClient(w3, deploy_all(w3, operator))
    demo = seed_demo(scf, operator)
    large = None
    if args.seed_fragments:
        console.print(f"Splitting a receivable into {args.seed_fragments:,} fragments ...")
        large = seed_fragments(scf, demo, args.seed_fragments)
    index = EventIndex(args.index or ":memory:")
    demo.label(index)
    store = RequestStore(store_dir / "api.sqlite")
    context = ApiContext(scf, index, store, Members(demo.members()), day_count=DayCount(args.day_count))
    if large is not None:
        # Indexed now, as the first read would (it syncs): timed, and no request measured waits for it.
        started = time.perf_counter()
        context.sync()
        indexed = time.perf_counter() - started
    submitted = submit_requests(context, demo)
    if large is not None:
        console.print(
            f"seeded a receivable of {large.fragments:,} fragments in {large.seconds:.1f} s "
            f"({large.transactions:,} split transactions); indexed {index.event_count():,} events in {indexed:.1f} s "
            f"(slot {large.slot})",
            soft_wrap=True,
        )
    if args.keys_out:
        write_members(args.keys_out, demo.members())
    _print_keys(console, demo, len(submitted), args)
    return context


def _remote(args: argparse.Namespace) -> ApiContext:
    from api.context import ApiContext, Members
    from api.store import RequestStore

    if args.seed_fragments is not None:
        raise UsageError("--seed-fragments is for the embedded chain: a real chain is not seeded")
    try:
        settings = Settings.load(
            args.keys_file,
            rpc_url=args.rpc,
            deployment=args.deployment,
            store_path=args.store,
            index_path=args.index,
            day_count=args.day_count,
        )
    except (ValueError, KeystoreError) as exc:
        raise UsageError(str(exc)) from None
    if settings.deployment is None or not settings.deployment.exists():
        raise UsageError(f"--rpc needs --deployment FILE (a deployment record; env {ENV_DEPLOYMENT})")
    keys = [m.private_key.get_secret_value() for m in settings.members if m.private_key is not None]
    w3 = connect(settings.rpc_url, keys)
    if not w3.is_connected():
        raise UsageError(f"no JSON-RPC node answers at {settings.rpc_url}")
    try:
        contracts = load_contracts(w3, DeploymentRecord.load(settings.deployment))
    except (ValueError, KeyError) as exc:
        raise UsageError(f"{settings.deployment}: {exc}") from None
    # A real chain outlives this process, and so must the submitted requests and idempotency keys.
    store = RequestStore(settings.store_path or DEFAULT_STORE)
    index = EventIndex(settings.index_path)
    return ApiContext(ScfClient(w3, contracts), index, store, Members(settings.members), day_count=settings.day_count)


def _print_keys(console: Console, demo: DemoChain, open_requests: int, args: argparse.Namespace) -> None:
    table = Table(title="API keys (Authorization: Bearer <key>)")
    for column in ("member", "role", "account", "API key"):
        table.add_column(column)
    for p in demo.parties:
        table.add_row(p.name, p.role.name.lower(), p.address, p.api_key)
    console.print(table)
    url = f"http://{args.host}:{args.port}"
    bank = demo.banks[0]
    console.print(f"{open_requests} signed financing requests are open. OpenAPI: {url}/docs")
    # soft_wrap: a command is printed on one line (the terminal may fold it, but a copy gets it whole).
    curl = f'curl -H "Authorization: Bearer {bank.api_key}" "{url}/financing-requests?status=open"'
    console.print("Try: " + curl, soft_wrap=True, markup=False)
    console.print(
        "Lender demo: " + lender_demo_command(url, bank.api_key, demo.operator.api_key), soft_wrap=True, markup=False
    )


def shown_path(path: Path, cwd: Path | None = None) -> str:
    """`path` as a user types it in `cwd`: relative when it lies below (`.venv/bin/python`), else absolute.
    Not resolved: a venv's `python` is a symlink, and only through the venv's own path does it find the venv."""
    path, cwd = path.absolute(), (cwd or Path.cwd()).absolute()
    text = str(path.relative_to(cwd)) if path.is_relative_to(cwd) else str(path)
    return shlex.quote(text)


def lender_demo_command(url: str, key: str, operator_key: str, cwd: Path | None = None) -> str:
    """The command that runs the lender demo against this server, with this process's interpreter (the venv's:
    a bare `python` outside the venv lacks the packages), as it works when typed in `cwd`."""
    python = shown_path(Path(sys.executable), cwd)
    script = shown_path(LENDER_DEMO, cwd)
    return f"{python} {script} --api {url} --key {key} --operator-key {operator_key}"


# py_ecc (imported through the chain client) raises Python's recursion limit to 100,000 for its own sake;
# recursive code then overflows the C stack and kills the process before RecursionError could be raised.
# py-evm needs 12,288 (its EVM_RECURSION_LIMIT): that much, and no more.
RECURSION_LIMIT = 1024 * 12


def _exit_on_sigterm(signum: int, _: object) -> None:
    # uvicorn handles SIGTERM itself while it serves, then raises it again once it has shut down: exit through
    # Python here (not the default handler's abrupt death), so `finally` blocks run and the temporary
    # store directory is removed. Before and after uvicorn's own handler, the same applies.
    raise SystemExit(128 + signum)


def main(argv: Sequence[str] | None = None, *, prog: str = "scf serve") -> int:
    """Run the lender HTTP API."""
    try:
        return _main(argv, prog)
    except KeyboardInterrupt:  # Ctrl-C while deploying and seeding (uvicorn handles it itself once serving)
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130


def _main(argv: Sequence[str] | None, prog: str) -> int:
    args = build_parser(prog).parse_args(argv)
    try:
        import uvicorn

        from api.main import create_app
    except ModuleNotFoundError as exc:
        if (exc.name or "").partition(".")[0] not in WEB_STACK:
            raise
        print(f"{prog}: error: the lender API needs {exc.name}, not installed here: {INSTALL_HINT}", file=sys.stderr)
        return 2
    sys.setrecursionlimit(min(sys.getrecursionlimit(), RECURSION_LIMIT))
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    console = Console(width=None if sys.stdout.isatty() else 200, highlight=False)
    with tempfile.TemporaryDirectory(prefix="scf-api-") as store_dir:
        try:
            context = _remote(args) if args.rpc else _embedded(args, Path(store_dir), console)
        except (UsageError, ChainError) as exc:
            print(f"{prog}: error: {exc}", file=sys.stderr)
            return 2
        sys.stdout.flush()
        try:
            uvicorn.run(create_app(context), host=args.host, port=args.port, log_level=args.log_level)
        finally:
            context.close()
    return 0
