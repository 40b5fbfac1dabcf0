"""`Indexer`: reads a deployment's logs from a chain into an `EventIndex`, block range by block range.

- **Incremental and restartable.** Each range of blocks is fetched with `eth_getLogs` and written in one SQLite
  transaction together with the cursor (last indexed block and its hash); a crash loses nothing and repeats
  nothing. Events are written with `INSERT OR REPLACE` keyed by their place in the chain (block, transaction
  index, log index), so storing a range again after a rewind cannot duplicate one.
- **Self-checking.** `blocks` records how many of our logs each block had. A sync first checks that the
  stored events still add up (and the projection's row counts match); if rows went missing it rewinds to
  the first incomplete block, rebuilds the projection and reads on from there. It also checks that the
  cursor's block hash is still the chain's (a reorganisation) and rewinds to the last block both agree on.
- **Confirmations.** On a chain without instant finality, `confirmations=N` indexes only blocks with at least
  N blocks on top. (QBFT, the production consensus, is final at once: 0.)
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import cast

from eth_tester.exceptions import BlockNotFound as TesterBlockNotFound
from eth_utils.address import to_checksum_address
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import BlockNotFound, BlockNumberOutOfRange
from web3.types import FilterParams, LogReceipt

from chain_client.deploy import DeploymentRecord
from chain_client.index import projection
from chain_client.index.decoding import LogDecoder
from chain_client.index.store import EventIndex, IndexMismatch
from chain_client.reads import block_headers, get_logs
from chain_client.tx import is_connection_error

# How a node (web3) and the embedded chain (eth-tester) say a block is not there: after a reorganisation, or
# a block the index saw on a chain since reset.
NO_SUCH_BLOCK = (BlockNotFound, BlockNumberOutOfRange, TesterBlockNotFound)


@dataclass(frozen=True)
class SyncReport:
    from_block: int
    to_block: int
    head: int
    logs: int
    rewound_to: int | None = None

    def __str__(self) -> str:
        if self.to_block < self.from_block:
            text = f"up to date at block {self.to_block} (head {self.head})"
        else:
            text = f"indexed blocks {self.from_block}..{self.to_block}: {self.logs} events (head {self.head})"
        if self.rewound_to is not None:
            text += f"; rewound to block {self.rewound_to} first"
        return text


class Indexer:
    """Reads a deployment's events from a chain into an `EventIndex`."""

    def __init__(
        self,
        index: EventIndex,
        w3: Web3,
        contracts: Mapping[str, Contract] | Mapping[str, str] | DeploymentRecord,
        *,
        confirmations: int = 0,
        start_block: int | None = None,
        batch_blocks: int = 2_000,
    ) -> None:
        if confirmations < 0:
            raise ValueError("confirmations cannot be negative")
        if batch_blocks < 1:
            raise ValueError("batch_blocks must be at least 1")
        self.index = index
        self.w3 = w3
        self.confirmations = confirmations
        self.batch_blocks = batch_blocks
        addresses = contracts.addresses if isinstance(contracts, DeploymentRecord) else contracts
        self.addresses = {
            name: to_checksum_address(a if isinstance(a, str) else a.address) for name, a in addresses.items()
        }
        self._decode = LogDecoder(self.addresses)
        # The index file's `PRAGMA data_version` when its rows were last checked whole: it changes only when
        # another connection commits (a damaged disk, another program), so while it stays, they need no
        # counting again (at 300,000 events and 100,000 fragments that cost every sync, so every read, ~10 ms).
        self._checked_version: int | None = None
        self._bind(start_block)

    def _bind(self, start_block: int | None) -> None:
        """Record which chain and deployment the index is for; refuse an index made for another."""
        index = self.index
        chain_id = self.w3.eth.chain_id
        if index.chain_id is None:
            first = start_block if start_block is not None else _deployment_block(self.w3, self.addresses.values())
            with index._transaction():
                index._set_meta("chain_id", str(chain_id))
                index._set_meta("addresses", json.dumps(self.addresses, sort_keys=True))
                index._set_meta("start_block", str(first))
            return
        if index.chain_id != chain_id:
            raise IndexMismatch(f"index {index.path} is for chain {index.chain_id}, connected to chain {chain_id}")
        if index.addresses != self.addresses:
            raise IndexMismatch(f"index {index.path} was built for another deployment ({index.addresses})")

    # ------------------------------------------------------------------ public

    def sync(self, *, to_block: int | None = None) -> SyncReport:
        """Index every block from the cursor up to `to_block` (default: head minus confirmations)."""
        index = self.index
        start = cast(int, index.start_block)
        rewound = self._repair()
        head = int(self.w3.eth.block_number)
        target = head - self.confirmations
        if to_block is not None:
            target = min(target, to_block)
        cursor = index.synced_block
        first = start if cursor is None else cursor + 1
        logs = 0
        a = first
        while a <= target:
            b = min(a + self.batch_blocks - 1, target)
            fetched = self._get_logs(a, b)
            self._store(fetched, b)
            logs += len(fetched)
            a = b + 1
        if cursor is None and target < first:
            with index._transaction():  # nothing to read yet, but the index now has a cursor
                self._set_cursor(first - 1)
        return SyncReport(first, max(target, first - 1), head, logs, rewound)

    def follow(
        self,
        interval: float = 2.0,
        *,
        stop: threading.Event | None = None,
        on_sync: Callable[[SyncReport], None] | None = None,
        on_unreachable: Callable[[BaseException], None] | None = None,
    ) -> None:
        """Sync, wait `interval` seconds, repeat, until `stop` is set (or KeyboardInterrupt). A node that cannot
        be reached is reported to `on_unreachable` and tried again next round; other errors end the loop."""
        stop = stop or threading.Event()
        while not stop.is_set():
            try:
                report = self.sync()
            except Exception as exc:
                if not is_connection_error(exc):
                    raise
                if on_unreachable is not None:
                    on_unreachable(exc)
            else:
                if on_sync is not None:
                    on_sync(report)
            stop.wait(interval)

    # ------------------------------------------------------------------ repair

    def _repair(self) -> int | None:
        """Rewind past missing rows or a reorganisation; rebuild a damaged projection. Returns the rewind block."""
        index = self.index
        cursor = index.synced_block
        if cursor is None:
            return None
        with index._transaction() as conn:
            version = int(conn.execute("PRAGMA data_version").fetchone()[0])
            unchanged = version == self._checked_version  # since the last whole check: nobody else wrote
            bad = None if unchanged else _first_incomplete_block(conn)
            fork = self._fork_point(conn, cursor)
            candidates = [b for b in (None if bad is None else bad - 1, fork) if b is not None]
            if candidates:
                to = min(candidates)
                self._rewind(conn, to)
                self._checked_version = version
                return to
            if not unchanged and projection.damaged(conn):
                projection.rebuild(conn)
            self._checked_version = version
        return None

    def _fork_point(self, conn: sqlite3.Connection, cursor: int) -> int | None:
        """None while the chain still has the cursor's block; else the last stored block the chain agrees on."""
        saved = self.index._meta("cursor_hash")
        if saved is None or self._hash_of(cursor) == saved:
            return None
        for number, stored in conn.execute(
            "SELECT number, hash FROM blocks WHERE number < ? ORDER BY number DESC", (cursor,)
        ):
            if self._hash_of(number) == stored:
                return int(number)
        return cast(int, self.index.start_block) - 1

    def _hash_of(self, number: int) -> str | None:
        if number < 0:
            return None
        try:
            return HexBytes(self.w3.eth.get_block(number)["hash"]).to_0x_hex()
        except NO_SUCH_BLOCK:
            return None

    def _rewind(self, conn: sqlite3.Connection, block: int) -> None:
        """Forget every event after `block` and rebuild the projection; the sync reads on from there."""
        start = cast(int, self.index.start_block)
        block = max(block, start - 1)
        conn.execute("DELETE FROM events WHERE block_number > ?", (block,))
        conn.execute("DELETE FROM blocks WHERE number > ?", (block,))
        projection.rebuild(conn)
        self._set_cursor(block)

    # ------------------------------------------------------------------ reading and storing

    def _set_cursor(self, block: int) -> None:
        index = self.index
        index._set_meta("cursor", str(block))
        if block >= 0:
            header = self.w3.eth.get_block(block)
            index._set_meta("cursor_hash", HexBytes(header["hash"]).to_0x_hex())
            index._set_meta("cursor_time", str(int(header["timestamp"])))

    def _get_logs(self, a: int, b: int) -> list[LogReceipt]:
        params: FilterParams = {"fromBlock": a, "toBlock": b, "address": list(self.addresses.values())}
        try:
            return get_logs(self.w3, params)
        except Exception as exc:
            if b == a or is_connection_error(exc):
                raise
            # Nodes cap the size of one answer: halve the range.
            mid = (a + b) // 2
            return self._get_logs(a, mid) + self._get_logs(mid + 1, b)

    def _store(self, logs: list[LogReceipt], to_block: int) -> None:
        """Write the logs of one block range, the blocks they are in, the projection and the cursor at once."""
        by_block: dict[int, list[LogReceipt]] = {}
        for log in logs:
            by_block.setdefault(int(log["blockNumber"]), []).append(log)
        headers = block_headers(self.w3, by_block)  # in batches where the node takes them
        with self.index._transaction() as conn:
            project = projection.Projector(conn)
            for number in sorted(by_block):
                block_hash, block_time = headers[number]
                block_logs = sorted(by_block[number], key=lambda lg: (int(lg["transactionIndex"]), int(lg["logIndex"])))
                conn.execute(
                    "INSERT OR REPLACE INTO blocks (number, hash, timestamp, log_count) VALUES (?, ?, ?, ?)",
                    (number, block_hash, block_time, len(block_logs)),
                )
                for log in block_logs:
                    event = self._decode(log, block_time)
                    conn.execute(
                        """INSERT OR REPLACE INTO events
                           (block_number, tx_index, log_index, tx_hash, contract, event, args)
                           VALUES (?, ?, ?, ?, ?, ?, ?)""",
                        (
                            number,
                            event.tx_index,
                            event.log_index,
                            event.tx_hash,
                            event.contract,
                            event.name,
                            json.dumps(event.args),
                        ),
                    )
                    project(event)
            self._set_cursor(to_block)
            projection.record(conn)


def _first_incomplete_block(conn: sqlite3.Connection) -> int | None:
    """The first block whose stored events do not add up to what was read, if rows went missing."""
    stored = conn.execute("SELECT count(*) FROM events").fetchone()[0]
    expected = conn.execute("SELECT coalesce(sum(log_count), 0) FROM blocks").fetchone()[0]
    if stored == expected:
        return None
    row = conn.execute(
        """SELECT min(n) FROM (
               SELECT b.number AS n FROM blocks b
               LEFT JOIN (SELECT block_number, count(*) AS c FROM events GROUP BY block_number) e
                      ON e.block_number = b.number
               WHERE coalesce(e.c, 0) != b.log_count
               UNION ALL
               SELECT block_number FROM events WHERE block_number NOT IN (SELECT number FROM blocks)
           )"""
    ).fetchone()
    return None if row[0] is None else int(row[0])


def _deployment_block(w3: Web3, addresses: Iterable[str]) -> int:
    """The first block in which any of `addresses` has code (binary search over history); 0 if the node cannot
    answer for old blocks."""
    head = int(w3.eth.block_number)
    first = head
    try:
        for address in addresses:
            checksummed = to_checksum_address(address)
            if not w3.eth.get_code(checksummed, block_identifier=first):
                continue
            lo, hi = 0, first
            while lo < hi:
                mid = (lo + hi) // 2
                if w3.eth.get_code(checksummed, block_identifier=mid):
                    hi = mid
                else:
                    lo = mid + 1
            first = lo
    except Exception as exc:
        if is_connection_error(exc):
            raise
        return 0
    return first
