"""Benchmarks: every figure beside its reference measured in the same run, as a ratio.

    .venv/bin/python scripts/bench.py gas          # gas per operation vs OpenZeppelin / Solv, and the snapshot
    .venv/bin/python scripts/bench.py throughput   # client ops/s vs pre-signed raw transfers: embedded and anvil
    .venv/bin/python scripts/bench.py scaling      # repay, settle a page, index queries at 10 .. 20,000 fragments
    .venv/bin/python scripts/bench.py api          # p50/p95/p99 of the API's reads and funding vs a trivial endpoint,
                                                   # with a receivable of 100,000 fragments indexed (--fragments N)
    .venv/bin/python scripts/bench.py node         # anvil's throughput as its state grows, flag sets side by side

Each prints a table, or with --json one JSON object; --quick runs small sizes (what tests/test_bench.py runs).
`gas --write-snapshot` writes docs/gas-snapshot.json again, which a test compares every run with (+2 % fails).
Benchmarks, not tests: the timings depend on the machine, which each prints.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a file (python scripts/bench.py) as well as a module (-m scripts.bench)
    sys.path.insert(0, str(ROOT))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from chain_client import connect  # noqa: E402
from scripts.benchmarks import api as api_bench  # noqa: E402
from scripts.benchmarks import gas as gas_bench  # noqa: E402
from scripts.benchmarks import node as node_bench  # noqa: E402
from scripts.benchmarks import scaling as scaling_bench  # noqa: E402
from scripts.benchmarks import throughput as throughput_bench  # noqa: E402

ANVIL = ROOT / "node_modules" / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"
# Anvil's first development account (the well-known "test test ... junk" mnemonic): funded only on a local node.
DEV_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"


def machine() -> dict[str, Any]:
    return {
        "machine": platform.machine(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
    }


def machine_line() -> str:
    m = machine()
    return f"{m['machine']}, {m['cores']} cores, Python {m['python']}, SQLite {m['sqlite']}"


def console() -> Console:
    """A terminal gets its own width; a pipe or a file gets room for the whole table (rich would assume 80
    columns and cut names short)."""
    return Console(width=None if sys.stdout.isatty() else 200, highlight=False)


def ratio(value: float, reference: float) -> float | None:
    return round(value / reference, 4) if reference else None


def times(r: float | None) -> str:
    return "" if r is None else f"{r:.2f}x"


# ---------------------------------------------------------------------------------------------- nodes


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def anvil(flags: Sequence[str] = ()) -> Iterator[str]:
    """An anvil node on a free port for the length of the block (npm ci installs it), started with `flags`."""
    port = _free_port()
    proc = subprocess.Popen(
        [str(ANVIL), "--host", "127.0.0.1", "--port", str(port), "--silent", *flags],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}).encode()
        deadline = time.monotonic() + 30
        while True:
            try:
                request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
                with urllib.request.urlopen(request, timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise SystemExit(f"anvil did not start at {url}") from None
                time.sleep(0.1)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(10)


# ---------------------------------------------------------------------------------------------- gas


def gas(args: argparse.Namespace) -> dict[str, Any]:
    used = gas_bench.measure()
    if args.write_snapshot:
        gas_bench.write_snapshot(used)
    snapshot = gas_bench.read_snapshot() if gas_bench.SNAPSHOT.exists() else {}
    operations = {}
    for name, value in used.items():
        if name.startswith("ref_"):
            continue
        ref = gas_bench.COMPARED.get(name)
        operations[name] = {
            "gas": value,
            "target": gas_bench.TARGETS.get(name),
            "reference": ref.removeprefix("ref_") if ref else None,
            "reference_gas": used[ref] if ref else None,
            "ratio": ratio(value, used[ref]) if ref else None,
            "snapshot": snapshot.get(name),
            "vs_snapshot": ratio(value, snapshot[name]) if name in snapshot else None,
        }
    return {
        "bench": "gas",
        "machine": machine(),
        "chain": "embedded eth-tester (py-evm)",
        "operations": operations,
        "references": {k.removeprefix("ref_"): v for k, v in used.items() if k.startswith("ref_")},
        "over_snapshot": sorted(gas_bench.over_snapshot(used, snapshot)),
        "snapshot_written": bool(args.write_snapshot),
    }


def gas_table(report: dict[str, Any]) -> Table:
    table = Table(title=f"Gas per operation ({report['chain']}, one transaction each, base cost included)")
    for column in ("operation", "gasUsed", "target", "reference (same run)", "ratio", "snapshot", "vs snapshot"):
        table.add_column(column, justify="left" if column in ("operation", "reference (same run)") else "right")
    for name, op in report["operations"].items():
        target = op["target"]
        target_text = "" if target is None else f"≤ {target:,} {'met' if op['gas'] <= target else 'MISSED'}"
        ref_text = f"{op['reference']} {op['reference_gas']:,}" if op["reference"] else ""
        snap = "" if op["snapshot"] is None else f"{op['snapshot']:,}"
        table.add_row(name, f"{op['gas']:,}", target_text, ref_text, times(op["ratio"]), snap, times(op["vs_snapshot"]))
    table.add_section()
    for name, value in report["references"].items():
        table.add_row(f"reference: {name}", f"{value:,}", "", "", "", "", "")
    return table


# ---------------------------------------------------------------------------------------------- throughput


def throughput(args: argparse.Namespace) -> dict[str, Any]:
    count = args.count or (20 if args.quick else 300)
    backends: dict[str, Any] = {}

    def run(name: str, w3: Any) -> None:
        rates = throughput_bench.measure(w3, count)
        ceiling = rates[0].per_second
        single = next(r for r in rates if r.name.startswith("split, one"))
        batch = next(r for r in rates if r.unit == "fragments")
        backends[name] = {
            "rows": [
                {
                    "name": r.name,
                    "unit": r.unit,
                    "count": r.count,
                    "seconds": round(r.seconds, 4),
                    "per_second": round(r.per_second, 2),
                    "vs_ceiling": ratio(r.per_second, ceiling),
                }
                for r in rates
            ],
            "batch_vs_single_split": ratio(batch.per_second, single.per_second),
        }

    run("embedded", connect())
    if not args.embedded_only:
        if args.rpc:
            run(args.rpc, connect(args.rpc, keys=[args.key]))
        elif ANVIL.exists():
            with anvil() as url:
                run("anvil", connect(url, keys=[DEV_KEY]))
    return {"bench": "throughput", "machine": machine(), "count": count, "backends": backends}


def throughput_table(report: dict[str, Any]) -> Table:
    table = Table(title=f"Client throughput beside the backend's raw ceiling, same run ({machine_line()})")
    for column in ("backend", "operation", "count", "seconds", "per second", "× ceiling"):
        table.add_column(column, justify="left" if column in ("backend", "operation") else "right")
    for backend, b in report["backends"].items():
        for row in b["rows"]:
            per = f"{row['per_second']:,.0f} {row['unit']}/s"
            seconds = f"{row['seconds']:.2f}"
            table.add_row(backend, row["name"], str(row["count"]), seconds, per, times(row["vs_ceiling"]))
        batch_vs_single = times(b["batch_vs_single_split"])
        table.add_row(backend, "batch split vs single split, fragments/s", "", "", "", batch_vs_single)
        table.add_section()
    return table


# ---------------------------------------------------------------------------------------------- scaling


def scaling(args: argparse.Namespace) -> dict[str, Any]:
    sizes = tuple(args.sizes) if args.sizes else (scaling_bench.QUICK_SIZES if args.quick else scaling_bench.SIZES)
    repeat = args.repeat or (5 if args.quick else 30)
    w3 = connect(args.rpc, keys=[args.key]) if args.rpc else connect()
    built, indexing = scaling_bench.measure(w3, sizes, repeat)
    first = built[0]
    assert first.queries_ms is not None
    rows = []
    for size in built:
        assert size.queries_ms is not None
        rows.append(
            {
                "fragments": size.fragments,
                "repay_gas": size.repay_gas,
                "repay_gas_vs_smallest": ratio(size.repay_gas, first.repay_gas),
                "repay_ms": round(size.repay_ms, 3),
                "settle_page": size.settle_page,
                "settle_page_gas": size.settle_page_gas,
                "settle_gas_per_fragment": size.settle_page_gas // size.settle_page,
                "settle_gas_per_fragment_vs_smallest": ratio(
                    size.settle_page_gas / size.settle_page, first.settle_page_gas / first.settle_page
                ),
                "settle_page_ms": round(size.settle_page_ms, 3),
                "queries_ms": {k: round(v, 4) for k, v in size.queries_ms.items()},
                "queries_vs_smallest": {k: ratio(v, first.queries_ms[k]) for k, v in size.queries_ms.items()},
            }
        )
    return {
        "bench": "scaling",
        "machine": machine(),
        "chain": args.rpc or "embedded eth-tester (py-evm)",
        "page": scaling_bench.PAGE,
        "sizes": rows,
        "indexing": {
            "events": int(indexing["events"]),
            "seconds": round(indexing["index_seconds"], 3),
            "events_per_second": round(indexing["events_per_second"], 1),
        },
    }


def scaling_table(report: dict[str, Any]) -> Table:
    table = Table(
        title=f"One receivable growing: cost beside the smallest size, same run ({report['chain']}; {machine_line()})"
    )
    table.add_column("fragments", justify="right")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("× smallest", justify="right")
    for row in report["sizes"]:
        n = f"{row['fragments']:,}"
        table.add_row(n, "repay (one tx) gas", f"{row['repay_gas']:,}", times(row["repay_gas_vs_smallest"]))
        table.add_row(
            n,
            f"settle a page of {row['settle_page']}: gas per fragment",
            f"{row['settle_gas_per_fragment']:,}",
            times(row["settle_gas_per_fragment_vs_smallest"]),
        )
        for query, ms in row["queries_ms"].items():
            table.add_row(n, f"index {query} median ms", f"{ms:.3f}", times(row["queries_vs_smallest"][query]))
        table.add_section()
    i = report["indexing"]
    table.caption = f"indexing: {i['events']:,} events in {i['seconds']:.1f} s ({i['events_per_second']:,.0f} events/s)"
    return table


# ---------------------------------------------------------------------------------------------- api


def api(args: argparse.Namespace) -> dict[str, Any]:
    n = args.requests or (20 if args.quick else 500)
    fragments = (
        args.fragments
        if args.fragments is not None
        else (api_bench.QUICK_FRAGMENTS if args.quick else api_bench.FRAGMENTS)
    )
    rows, large, startup = api_bench.run(n, fragments)
    trivial = rows[0].pct(0.5)
    seed = "demo seed" if large is None else f"demo seed and one receivable of {large.fragments:,} fragments"
    return {
        "bench": "api",
        "machine": machine(),
        "chain": f"embedded eth-tester (py-evm), {seed}, in the server's process",
        "fragments": 0 if large is None else large.fragments,
        "seeding": None
        if large is None
        else {
            "split_transactions": large.transactions,
            "seed_seconds": large.seed_seconds,
            "events_indexed": large.events,
            "index_seconds": large.index_seconds,
            "startup_seconds": round(startup, 1),
        },
        "requests_per_read": n,
        "rows": [
            {
                "name": r.name,
                "requests": len(r.latencies),
                "p50_ms": round(r.pct(0.5), 3),
                "p95_ms": round(r.pct(0.95), 3),
                "p99_ms": round(r.pct(0.99), 3),
                "p50_vs_trivial": ratio(r.pct(0.5), trivial),
                "statuses": {str(k): v for k, v in sorted(r.statuses.items())},
            }
            for r in rows
        ],
    }


def api_table(report: dict[str, Any]) -> Table:
    fragments = report["fragments"]
    large = f"a receivable of {fragments:,} fragments indexed" if fragments else "the demo seed"
    table = Table(title=f"HTTP API over loopback, one client, requests in turn, {large} ({machine_line()})")
    for column in ("endpoint", "requests", "p50 ms", "p95 ms", "p99 ms", "p50 × trivial", "statuses"):
        table.add_column(column, justify="left" if column in ("endpoint", "statuses") else "right")
    for r in report["rows"]:
        statuses = ", ".join(f"{code}×{count}" for code, count in r["statuses"].items())
        table.add_row(
            r["name"],
            str(r["requests"]),
            f"{r['p50_ms']:.2f}",
            f"{r['p95_ms']:.2f}",
            f"{r['p99_ms']:.2f}",
            times(r["p50_vs_trivial"]),
            statuses,
        )
    seeding = report["seeding"]
    if seeding is not None:
        table.caption = (
            f"seeding: {fragments:,} fragments by {seeding['split_transactions']:,} split transactions in "
            f"{seeding['seed_seconds']:.1f} s, {seeding['events_indexed']:,} events indexed in "
            f"{seeding['index_seconds']:.1f} s; the API answered {seeding['startup_seconds']:.1f} s after it started"
        )
    return table


# ---------------------------------------------------------------------------------------------- node


def node(args: argparse.Namespace) -> dict[str, Any]:
    sizes = tuple(args.sizes) if args.sizes else (node_bench.QUICK_SIZES if args.quick else node_bench.SIZES)
    sample = args.sample or (node_bench.QUICK_SAMPLE if args.quick else node_bench.SAMPLE)
    singles = node_bench.QUICK_SINGLES if args.quick else node_bench.SINGLES
    flag_sets = dict(node_bench.FLAG_SETS)
    for extra in args.flags or ():
        flag_sets[extra] = ("--gas-limit", "300000000", *extra.split())
    series = node_bench.measure(
        anvil,
        DEV_KEY,
        lambda url, keys: connect(url, keys=keys),
        flag_sets=flag_sets,
        sizes=sizes,
        sample=sample,
        singles=singles,
    )
    version = subprocess.run([str(ANVIL), "--version"], capture_output=True, text=True).stdout.splitlines()
    return {
        "bench": "node",
        "machine": machine(),
        "node": version[0] if version else "anvil",
        "workload": "fund a new account, then admit it (2 tx a member), pipelined; single sends wait for receipts",
        "sample_members": sample,
        "sizes": list(sizes),
        "rows": list(node_bench.rows(series)),
    }


def node_table(report: dict[str, Any]) -> Table:
    table = Table(
        title=f"{report['node']} as its state grows: member admissions, flag sets side by side ({machine_line()})"
    )
    for column in (
        "flags",
        "members before",
        "pipelined tx/s",
        "× at 0",
        "× first flags",
        "blocks",
        "single tx/s",
        "× at 0",
        "× first flags",
    ):
        table.add_column(column, justify="left" if column == "flags" else "right")
    last = None
    for r in report["rows"]:
        if last is not None and r["flags"] != last:
            table.add_section()
        last = r["flags"]
        table.add_row(
            r["flags"],
            f"{r['members']:,}",
            f"{r['pipelined_tx_per_s']:,.0f}",
            times(r["pipelined_vs_first_size"]),
            times(r["pipelined_vs_first_flags"]),
            f"{r['blocks']:,}",
            f"{r['single_tx_per_s']:,.1f}",
            times(r["single_vs_first_size"]),
            times(r["single_vs_first_flags"]),
        )
    table.caption = f"{report['workload']}; {report['sample_members']} members a sample"
    return table


# ---------------------------------------------------------------------------------------------- command line

COMMANDS = {
    "gas": (gas, gas_table),
    "throughput": (throughput, throughput_table),
    "scaling": (scaling, scaling_table),
    "api": (api, api_table),
    "node": (node, node_table),
}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    for name, help_text in (
        ("gas", "gas per operation beside OpenZeppelin and Solv, and against the committed snapshot"),
        ("throughput", "client operations per second beside pre-signed raw transfers (embedded chain, anvil)"),
        ("scaling", "repay, settle-a-page and index queries as one receivable grows to 20,000 fragments"),
        ("api", "p50/p95/p99 of the API's reads and funding beside a trivial endpoint"),
        ("node", "anvil's throughput as its state grows, for several flag sets side by side"),
    ):
        s = sub.add_parser(name, help=help_text, description=help_text)
        s.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
        s.add_argument("--quick", action="store_true", help="small sizes: seconds, not minutes")
        if name == "gas":
            s.add_argument("--write-snapshot", action="store_true", help="write docs/gas-snapshot.json again")
        if name == "throughput":
            s.add_argument("--count", type=int, help="operations per row (default 300; quick 20)")
            s.add_argument("--embedded-only", action="store_true", help="no node beside the embedded chain")
        if name in ("throughput", "scaling"):
            s.add_argument(
                "--rpc",
                metavar="URL",
                help="this node instead of starting anvil (scaling: instead of the embedded chain)",
            )
            s.add_argument("--key", default=DEV_KEY, help="funded key on --rpc (default: the first dev account)")
        if name == "scaling":
            s.add_argument("--sizes", type=int, nargs="+", help="fragment counts (default 10 100 1000 5000 20000)")
            s.add_argument("--repeat", type=int, help="timed calls per query (default 30; quick 5)")
        if name == "node":
            s.add_argument(
                "--sizes", type=int, nargs="+", help="members admitted before each sample (default 0 2500 5000 10000)"
            )
            s.add_argument("--sample", type=int, help="members a timed sample (default 500; quick 25)")
            s.add_argument(
                "--flags",
                action="append",
                metavar="'ANVIL FLAGS'",
                help="another flag set to compare (repeatable), e.g. --flags '--block-time 0.2'",
            )
        if name == "api":
            s.add_argument("--requests", type=int, help="requests per read (default 500; quick 20)")
            s.add_argument(
                "--fragments",
                type=int,
                help="fragments of the large receivable the server seeds and indexes first (default 100000; quick "
                "200; 0: the demo seed only)",
            )
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    measure, render = COMMANDS[args.command]
    report = measure(args)
    report["quick"] = bool(args.quick)
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        console().print(render(report))
    if args.command == "gas" and report["over_snapshot"]:
        print(f"above the snapshot by more than 2 %: {', '.join(report['over_snapshot'])}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
