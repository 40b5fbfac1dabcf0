"""Transactions per second through the Python client on the embedded chain (signing, sending, receipt).

    python scripts/throughput.py [--count N]

Prints a table; a benchmark, not a test. The figure is bounded by py-evm executing in this process, not by
the contracts: a real node executes the same transactions in native code.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time

from rich.console import Console
from rich.table import Table

from chain_client import Role, ScfClient, accounts_of, connect, deploy_all, new_account
from chain_client.devchain import now


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=300, help="transactions per operation (default 300)")
    args = parser.parse_args(argv)
    if args.count < 1:
        parser.error("--count must be at least 1")

    w3 = connect()
    operator, core, s1 = accounts_of(w3)[:3]
    scf = ScfClient(w3, deploy_all(w3, operator))
    scf.membership.admit(operator, core.address, Role.CORE_ENTERPRISE)
    scf.membership.admit(operator, s1.address, Role.SUPPLIER)
    holders = [new_account(w3, fund_wei=0).address for _ in range(20)]
    for h in holders:
        scf.membership.admit(operator, h, Role.SUPPLIER)
    rt = scf.receivables
    rt.set_credit_line(operator, core.address, 10**14)
    issued = rt.issue(core, s1.address, 10**12, now(w3) + 90 * 86400, os.urandom(32))
    rt.accept(s1, issued.token_id)

    rows: list[tuple[str, int, float]] = []

    start = time.perf_counter()
    for i in range(args.count):
        rt.transfer_value(s1, issued.token_id, holders[i % len(holders)], 1)
    rows.append(("split", args.count, time.perf_counter() - start))

    batches = max(1, args.count // 10)
    start = time.perf_counter()
    for _ in range(batches):
        rt.split(s1, issued.token_id, [(h, 1) for h in holders[:10]])
    rows.append(("split_batch_10 (per new fragment)", batches * 10, time.perf_counter() - start))

    start = time.perf_counter()
    for _ in range(args.count):
        rt.issue(core, s1.address, 100, now(w3) + 90 * 86400, os.urandom(32))
    rows.append(("issue", args.count, time.perf_counter() - start))

    table = Table(
        title=f"Client throughput, embedded chain ({platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()})"
    )
    table.add_column("operation")
    table.add_column("count", justify="right")
    table.add_column("seconds", justify="right")
    table.add_column("per second", justify="right")
    for name, count, seconds in rows:
        table.add_row(name, str(count), f"{seconds:.2f}", f"{count / seconds:,.0f}")
    Console().print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
