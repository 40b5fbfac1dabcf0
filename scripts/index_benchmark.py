"""How fast the event index answers with 10,000 fragments indexed.

Builds two deployments on the embedded chain, each with 10,000 fragments made by real batch splits, indexes
them into a SQLite file and times the queries (median and 95th percentile of repeated calls):

- "one receivable": a single receivable split over two tiers into 10,000 fragments, the worst case for
  `tree(slot)`, which returns every fragment;
- "100 receivables": 100 receivables of 100 fragments each, spread over 50 holders.

Usage: .venv/bin/python scripts/index_benchmark.py [--repeat N]
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount

from chain_client import Role, ScfClient, accounts_of, connect, deploy_all, new_account
from chain_client.constants import DAY
from chain_client.devchain import now
from chain_client.index import EventIndex, Indexer

HOLDERS = 50
BATCH = 100  # recipients per split transaction


def setup(holders: int) -> tuple[ScfClient, LocalAccount, LocalAccount, list[LocalAccount]]:
    w3 = connect()
    operator, core = accounts_of(w3)[:2]
    scf = ScfClient(w3, deploy_all(w3, operator))
    scf.membership.admit(operator, core.address, Role.CORE_ENTERPRISE)
    scf.receivables.set_credit_line(operator, core.address, 2**48 - 1)
    members = [new_account(w3, fund_wei=10**20, funder=operator) for _ in range(holders)]
    for m in members:
        scf.membership.admit(operator, m.address, Role.SUPPLIER)
    return scf, operator, core, members


def split_into(scf: ScfClient, holder: LocalAccount, token_id: int, members: list[LocalAccount], n: int) -> list[int]:
    """Split `n` equal pieces off `token_id` to `members` in turn, `BATCH` per transaction."""
    value = scf.receivables.balance_of(token_id)
    share = value // (n + 1)
    out: list[int] = []
    for start in range(0, n, BATCH):
        count = min(BATCH, n - start)
        payments = [(members[(start + i) % len(members)].address, share) for i in range(count)]
        out += scf.receivables.split(holder, token_id, payments, memo=os.urandom(32)).new_token_ids
    return out


def one_receivable() -> tuple[ScfClient, dict[str, Any]]:
    scf, _, core, members = setup(HOLDERS)
    by_address: dict[str, LocalAccount] = {m.address: m for m in members}
    first = members[0]
    r = scf.receivables.issue(core, first.address, 10**12, now(scf.w3) + 90 * DAY, os.urandom(32))
    scf.receivables.accept(first, r.token_id)
    tier2 = split_into(scf, first, r.token_id, members[1:], 99)
    deepest = 0
    for token_id in tier2:
        holder = by_address[scf.receivables.owner_of(token_id)]
        deepest = split_into(scf, holder, token_id, members, 100)[-1]
    return scf, {"slot": r.slot, "deep": deepest, "debtor": core.address}


def many_receivables() -> tuple[ScfClient, dict[str, Any]]:
    scf, _, core, members = setup(HOLDERS)
    slot = deep = 0
    for i in range(100):
        supplier = members[i % len(members)]
        r = scf.receivables.issue(core, supplier.address, 10**9, now(scf.w3) + 90 * DAY, os.urandom(32))
        scf.receivables.accept(supplier, r.token_id)
        deep = split_into(scf, supplier, r.token_id, members, 99)[-1]
        slot = r.slot
    return scf, {"slot": slot, "deep": deep, "debtor": core.address}


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float, int]:
    """(median ms, p95 ms, rows) over `repeat` calls after one warm-up."""
    result = fn()
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    rows = len(result.fragments) if hasattr(result, "fragments") else len(result)
    return statistics.median(samples), samples[int(0.95 * (len(samples) - 1))], rows


def timed_frozen(fn: Callable[[], Any], repeat: int) -> tuple[float, float, int]:
    """The same with the objects alive now moved out of the collector's sight (`gc.freeze()`), as a long-running
    service does after start-up: a query that builds 10,000 nodes then no longer triggers a full collection
    over every module object web3 brought in, which is what the plain p95 mostly measures."""
    gc.collect()
    gc.freeze()
    try:
        return timed(fn, repeat)
    finally:
        gc.unfreeze()


def run(name: str, build: Callable[[], tuple[ScfClient, dict[str, Any]]], repeat: int, folder: Path) -> list[str]:
    t0 = time.perf_counter()
    scf, where = build()
    built = time.perf_counter() - t0
    index = EventIndex(folder / f"{name.replace(' ', '-')}.sqlite")
    t0 = time.perf_counter()
    Indexer(index, scf.w3, scf.contracts).sync()
    synced = time.perf_counter() - t0
    held = index.fragments_held()  # nothing is burned here: every fragment is live
    fragments = sum(held.values())
    events = index.event_count()
    busiest = max(held, key=held.__getitem__)
    print(
        f"{name}: {fragments:,} fragments, {events:,} events; built on chain in {built:.0f} s, "
        f"indexed in {synced:.1f} s ({events / synced:,.0f} events/s)",
        file=sys.stderr,
    )
    queries: list[tuple[str, Callable[[], Any]]] = [
        ("holdings(account) (busiest holder)", lambda: index.holdings(busiest)),
        ("tree(slot)", lambda: index.tree(where["slot"])),
        ("path_to_root(token)", lambda: index.path_to_root(where["deep"])),
        ("tier_totals(slot)", lambda: index.tier_totals(where["slot"])),
        ("receivables(debtor)", lambda: index.receivables(debtor=where["debtor"])),
    ]
    lines = []
    for label, fn in queries:
        median, p95, rows = timed(fn, repeat)
        frozen_median, frozen_p95, _ = timed_frozen(fn, repeat)
        lines.append(
            f"| {name} | {label} | {rows:,} | {median:.2f} | {p95:.2f} | {frozen_median:.2f} | {frozen_p95:.2f} |"
        )
    index.close()
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=50, help="timed calls per query (default 50)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        rows = run("one receivable", one_receivable, args.repeat, Path(folder))
        rows += run("100 receivables", many_receivables, args.repeat, Path(folder))
    print(
        f"Index query latency with 10,000 fragments indexed (SQLite file, warm cache); {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"
    )
    print()
    print("| data | query | rows returned | median ms | p95 ms | median ms, gc.freeze | p95 ms, gc.freeze |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for line in rows:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
