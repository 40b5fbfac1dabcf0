"""`bench.py node`: how anvil's throughput changes as its state grows, for several ways of starting it, side by
side in one run.

For each flag set a fresh anvil is started; the project is deployed; then members are admitted as the scenario
runner's set-up admits them (each new account funded for gas, then admitted: two transactions a member, pipelined
through `Transactor.transact_many`). At each state size (members admitted so far) a sample is timed: `sample`
members pipelined (transactions per second), and a few single sends (`Transactor.send_call`, each waiting for
its receipt). Between sizes the chain is filled with the same workload, untimed. A flat row (×1.00 at every size)
means the node's cost per transaction does not grow with its state; the last column sets each figure beside the
first flag set's at the same size.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

from eth_account import Account
from web3 import Web3

from chain_client import Role, ScfClient, accounts_of, deploy_all
from chain_client.chain import chain_of
from chain_client.tx import Call, Transactor

# name -> anvil flags (beside --host/--port/--silent). Automine (every transaction its own block, or what a
# busy node has at hand) with 300M-gas blocks is what the stress runs used before; interval mining seals
# whatever arrived every 0.1 s; with --no-mining the client mines one block per window of pipelined
# transactions, or per single send (`Transactor.mines_on_demand`): how large runs start anvil now.
FLAG_SETS: dict[str, tuple[str, ...]] = {
    "automine": ("--gas-limit", "300000000"),
    "automine, --prune-history": ("--gas-limit", "300000000", "--prune-history"),
    "--block-time 0.1": ("--gas-limit", "300000000", "--block-time", "0.1"),
    "--no-mining (the client mines)": ("--gas-limit", "300000000", "--no-mining"),
}
SIZES = (0, 2_500, 5_000, 10_000)
QUICK_SIZES = (0, 100)
SAMPLE = 500  # members per timed sample (1,000 transactions)
QUICK_SAMPLE = 25
SINGLES = 20  # single sends per sample
QUICK_SINGLES = 3
FUNDING = 10**15  # wei each new member gets (what a member that sends a few transactions needs on anvil)


@dataclass
class Point:
    members: int  # admitted before the sample
    pipelined_tx_per_s: float
    single_tx_per_s: float
    blocks: int  # blocks the pipelined sample was mined in


@dataclass
class Series:
    name: str
    flags: tuple[str, ...]
    points: list[Point] = field(default_factory=list)


def _member_calls(scf: ScfClient, tx: Transactor, operator: object, count: int) -> list[Call]:
    calls: list[Call] = []
    for _ in range(count):
        address = Account.create().address
        calls.append(tx.value_call(operator, address, FUNDING))  # type: ignore[arg-type]
        calls.append(scf.membership.admit_call(operator, address, Role.SUPPLIER))  # type: ignore[arg-type]
    return calls


def measure_one(
    name: str, flags: Sequence[str], node: Callable[[Sequence[str]], AbstractContextManager[str]], key: str, *,
    sizes: Sequence[int], sample: int, singles: int, connect: Callable[[str, list[str]], Web3],
) -> Series:  # fmt: skip
    series = Series(name, tuple(flags))
    with node(flags) as url:
        w3 = connect(url, [key])
        operator = accounts_of(w3)[0]
        scf = ScfClient(w3, deploy_all(w3, operator))
        tx = chain_of(w3).sender
        admitted = 0
        for size in sizes:
            if size > admitted:  # fill, untimed
                tx.transact_many(_member_calls(scf, tx, operator, size - admitted))
                admitted = size
            calls = _member_calls(scf, tx, operator, sample)
            first = w3.eth.block_number
            start = time.perf_counter()
            tx.transact_many(calls)
            pipelined = len(calls) / (time.perf_counter() - start)
            blocks = int(w3.eth.block_number) - int(first)
            admitted += sample
            one_by_one = _member_calls(scf, tx, operator, singles // 2 or 1)
            start = time.perf_counter()
            for call in one_by_one:
                tx.send_call(call)
            single = len(one_by_one) / (time.perf_counter() - start)
            admitted += len(one_by_one) // 2
            series.points.append(Point(size, pipelined, single, blocks))
    return series


def measure(
    node: Callable[[Sequence[str]], AbstractContextManager[str]],
    key: str,
    connect: Callable[[str, list[str]], Web3],
    *,
    flag_sets: dict[str, tuple[str, ...]] | None = None,
    sizes: Sequence[int] = SIZES,
    sample: int = SAMPLE,
    singles: int = SINGLES,
) -> list[Series]:
    return [
        measure_one(name, flags, node, key, sizes=sizes, sample=sample, singles=singles, connect=connect)
        for name, flags in (flag_sets or FLAG_SETS).items()
    ]


def rows(series: list[Series]) -> Iterator[dict[str, object]]:
    """One row per flag set and size, with each figure beside the same flag set's first size (the slope) and
    beside the first flag set at the same size."""
    base = series[0]
    for s in series:
        first = s.points[0]
        for i, p in enumerate(s.points):
            ref = base.points[i] if i < len(base.points) else None
            yield {
                "flags": s.name,
                "anvil_args": list(s.flags),
                "members": p.members,
                "pipelined_tx_per_s": round(p.pipelined_tx_per_s, 1),
                "pipelined_vs_first_size": _ratio(p.pipelined_tx_per_s, first.pipelined_tx_per_s),
                "pipelined_vs_first_flags": _ratio(p.pipelined_tx_per_s, ref.pipelined_tx_per_s) if ref else None,
                "blocks": p.blocks,
                "single_tx_per_s": round(p.single_tx_per_s, 1),
                "single_vs_first_size": _ratio(p.single_tx_per_s, first.single_tx_per_s),
                "single_vs_first_flags": _ratio(p.single_tx_per_s, ref.single_tx_per_s) if ref else None,
            }


def _ratio(value: float, reference: float) -> float | None:
    return round(value / reference, 4) if reference else None
