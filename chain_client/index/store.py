"""`EventIndex`: the SQLite file, what it is for (chain, deployment, cursor), and the questions asked of it.

Reading needs no chain: `scf tree` and `scf holdings` open only this. The connection and its lock stay inside
the package; `Indexer` (sync) writes through `_transaction`, everything else reads through the query methods.
"""

from __future__ import annotations

import functools
import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar, cast

from eth_utils.address import to_checksum_address
from web3 import Web3

from chain_client.exceptions import ChainError
from chain_client.ids import MAX_SLOT, slot_of, token_id_of
from chain_client.index import projection
from chain_client.index.results import (
    Financing,
    FragmentInfo,
    FragmentNode,
    Holding,
    Hop,
    Member,
    ReceivableRow,
    ReceivableTree,
    TierTotal,
)
from chain_client.index.schema import EVENT_STORE, SCHEMA_VERSION, slot_key, token_id_at, token_key
from chain_client.membership import Role
from chain_client.receivables import ReceivableState

# Stored states that still use the debtor's credit line (released by repayment, rejection, cancellation).
_CREDIT_IN_USE = (ReceivableState.PENDING, ReceivableState.ACTIVE, ReceivableState.MATURED, ReceivableState.OVERDUE)


class IndexMismatch(ChainError, ValueError):
    """The index file was built for another chain or another deployment."""


_R = TypeVar("_R")


def _locked(method: Callable[..., _R]) -> Callable[..., _R]:
    """Run a query under the index's lock: a follower thread writing through the same connection is never seen
    half-way through a batch."""

    @functools.wraps(method)
    def run(self: EventIndex, *args: Any, **kwargs: Any) -> _R:
        with self._lock:
            return method(self, *args, **kwargs)

    return run


class EventIndex:
    """The SQLite store and its queries."""

    def __init__(self, path: str | Path = ":memory:", *, create: bool = True) -> None:
        self.path = str(path)
        if self.path != ":memory:" and not create and not Path(self.path).exists():
            raise FileNotFoundError(f"no index at {self.path}")
        self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._lock = threading.RLock()
        try:
            if self.path != ":memory:":
                self._conn.execute("PRAGMA journal_mode=WAL")  # readers (the CLI) never block the follower
                self._conn.execute("PRAGMA synchronous=NORMAL")
            version = self._meta("schema_version")
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            raise ValueError(f"{self.path} is not an index database ({exc})") from None
        if version is not None and int(version) != SCHEMA_VERSION:
            raise IndexMismatch(f"{self.path} has index schema {version}, this program reads {SCHEMA_VERSION}")
        self._conn.executescript(EVENT_STORE)
        if version is None:
            self._set_meta("schema_version", str(SCHEMA_VERSION))
        if self._meta("projection") != projection.signature():
            # A new index, or one whose projection another program made (other handlers, other tables).
            with self._transaction() as conn:
                projection.rebuild(conn)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> EventIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def reading(self) -> Iterator[EventIndex]:
        """Hold off writers (a following sync in another thread) while several queries read one state."""
        with self._lock:
            yield self

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    # ------------------------------------------------------------------ what the index is for

    def _meta(self, key: str) -> str | None:
        try:
            row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return None
            raise
        return None if row is None else str(row[0])

    def _set_meta(self, key: str, value: str) -> None:
        self._conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    @property
    def chain_id(self) -> int | None:
        value = self._meta("chain_id")
        return None if value is None else int(value)

    @property
    def addresses(self) -> dict[str, str]:
        value = self._meta("addresses")
        return {} if value is None else cast(dict[str, str], json.loads(value))

    @property
    def start_block(self) -> int | None:
        value = self._meta("start_block")
        return None if value is None else int(value)

    @property
    def synced_block(self) -> int | None:
        """The last block whose events are all in the index (None before the first sync)."""
        value = self._meta("cursor")
        return None if value is None else int(value)

    @property
    def synced_time(self) -> int | None:
        """The timestamp of `synced_block`: the index's idea of now (an active receivable past it is matured)."""
        value = self._meta("cursor_time")
        return None if value is None else int(value)

    @_locked
    def event_count(self) -> int:
        return int(self._conn.execute("SELECT count(*) FROM events").fetchone()[0])

    # ------------------------------------------------------------------ labels

    def set_label(self, account: str, label: str) -> None:
        with self._lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO labels (account, label) VALUES (?, ?)", (to_checksum_address(account), label)
            )

    @_locked
    def labels(self) -> dict[str, str]:
        return {str(a): str(n) for a, n in self._conn.execute("SELECT account, label FROM labels")}

    @_locked
    def account_of(self, text: str) -> str:
        """An address (any case) or a label given with `set_label`, as a checksummed address."""
        if Web3.is_address(text):
            return to_checksum_address(text)
        row = self._conn.execute("SELECT account FROM labels WHERE label = ?", (text,)).fetchone()
        if row is None:
            raise ValueError(f"not an address, nor a name in the index: {text!r}")
        return str(row[0])

    # ------------------------------------------------------------------ receivables and fragments

    def _now(self, at: int | None) -> int:
        if at is not None:
            return at
        return self.synced_time or 0

    @staticmethod
    def _state(stored: int, maturity: int, now: int) -> ReceivableState:
        state = ReceivableState(stored)
        if state is ReceivableState.ACTIVE and now >= maturity:
            return ReceivableState.MATURED
        return state

    @_locked
    def holdings(self, account: str, *, at: int | None = None) -> list[Holding]:
        """Live fragments held by `account`, by receivable and sequence."""
        now = self._now(at)
        rows = self._conn.execute(
            """SELECT f.slot, f.sequence, f.value, r.debtor, r.maturity, f.tier, r.state, f.frozen, f.financed,
                      f.parent
               FROM fragments f JOIN receivables r ON r.slot = f.slot
               WHERE f.owner = ? AND f.burned = 0
               ORDER BY f.slot, f.sequence""",
            (to_checksum_address(account),),
        ).fetchall()
        return [
            Holding(
                token_id=token_id_at(slot, seq),
                slot=int(slot, 16),
                value=value,
                debtor=debtor,
                maturity=maturity,
                tier=tier,
                state=self._state(state, maturity, now),
                frozen=bool(frozen),
                financed=bool(financed),
                parent_id=token_id_at(slot, parent) if parent else 0,
            )
            for slot, seq, value, debtor, maturity, tier, state, frozen, financed, parent in rows
        ]

    @_locked
    def fragments_held(self) -> dict[str, int]:
        """Every account holding live fragments, and how many (each one's ERC-721 `balanceOf`)."""
        rows = self._conn.execute("SELECT owner, count(*) FROM fragments WHERE burned = 0 GROUP BY owner")
        return {str(owner): int(n) for owner, n in rows}

    @_locked
    def path_to_root(self, token_id: int) -> list[Hop]:
        """`token_id` first, then its parent, ..., down to the fragment issued to the supplier."""
        slot, sequence = token_key(token_id)
        rows = self._conn.execute(
            """WITH RECURSIVE up(seq) AS (
                   SELECT ? UNION ALL
                   SELECT f.parent FROM fragments f JOIN up ON f.slot = ? AND f.sequence = up.seq
                   WHERE f.parent > 0
               )
               SELECT f.sequence, f.owner, f.tier, f.value, f.created_value, f.created_from, f.memo,
                      f.created_block, f.created_time, f.created_tx, f.burned
               FROM up JOIN fragments f ON f.slot = ? AND f.sequence = up.seq""",
            (sequence, slot, slot),
        ).fetchall()
        if not rows:
            raise ValueError(f"no fragment {token_id} in the index")
        return [
            Hop(
                token_id=token_id_at(slot, seq),
                holder=owner,
                tier=tier,
                value=value,
                created_value=created_value,
                from_holder=created_from or "",
                memo=memo,
                block_number=block,
                block_time=block_time,
                tx_hash=tx,
                burned=bool(burned),
            )
            for seq, owner, tier, value, created_value, created_from, memo, block, block_time, tx, burned in rows
        ]

    def receivable(self, slot: int, *, at: int | None = None) -> ReceivableRow | None:
        found = self.receivables(slots=[slot], at=at)
        return found[0] if found else None

    @_locked
    def receivables(
        self,
        *,
        debtor: str | None = None,
        state: ReceivableState | None = None,
        matures_from: int | None = None,
        matures_to: int | None = None,
        min_value: int | None = None,
        slots: Iterable[int] | None = None,
        at: int | None = None,
    ) -> list[ReceivableRow]:
        """Receivables by debtor, (effective) state, maturity range [from, to] and minimum face value, soonest
        maturity first."""
        now = self._now(at)
        where, params = self._receivable_filter(debtor, state, matures_from, matures_to, min_value, slots, now)
        return self._receivables(where, params, now, totals=True)

    @_locked
    def receivables_page(
        self,
        *,
        debtor: str | None = None,
        state: ReceivableState | None = None,
        matures_from: int | None = None,
        matures_to: int | None = None,
        min_value: int | None = None,
        offset: int = 0,
        limit: int = 100,
        at: int | None = None,
    ) -> tuple[list[ReceivableRow], int]:
        """`receivables(...)[offset : offset + limit]` and how many match in all, with the page cut in SQL: only
        the page's rows are read and totalled, however many receivables match."""
        now = self._now(at)
        where, params = self._receivable_filter(debtor, state, matures_from, matures_to, min_value, None, now)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        count = int(self._conn.execute(f"SELECT count(*) FROM receivables r {clause}", params).fetchone()[0])
        return self._receivables(where, params, now, totals=True, page=(offset, limit)), count

    @staticmethod
    def _receivable_filter(
        debtor: str | None,
        state: ReceivableState | None,
        matures_from: int | None,
        matures_to: int | None,
        min_value: int | None,
        slots: Iterable[int] | None,
        now: int,
    ) -> tuple[list[str], list[Any]]:
        where: list[str] = []
        params: list[Any] = []
        if debtor is not None:
            where.append("r.debtor = ?")
            params.append(to_checksum_address(debtor))
        if state is not None:
            if state is ReceivableState.MATURED:
                where.append("(r.state = ? OR (r.state = ? AND r.maturity <= ?))")
                params += [int(ReceivableState.MATURED), int(ReceivableState.ACTIVE), now]
            elif state is ReceivableState.ACTIVE:
                where.append("r.state = ? AND r.maturity > ?")
                params += [int(ReceivableState.ACTIVE), now]
            else:
                where.append("r.state = ?")
                params.append(int(state))
        if matures_from is not None:
            where.append("r.maturity >= ?")
            params.append(matures_from)
        if matures_to is not None:
            where.append("r.maturity <= ?")
            params.append(matures_to)
        if min_value is not None:
            where.append("r.face_value >= ?")
            params.append(min_value)
        if slots is not None:
            keys = [slot_key(s) for s in slots]
            where.append(f"r.slot IN ({','.join('?' * len(keys))})")
            params += keys
        return where, params

    def _receivables(
        self, where: list[str], params: list[Any], now: int, *, totals: bool, page: tuple[int, int] | None = None
    ) -> list[ReceivableRow]:
        """Rows of `receivables` matching `where`, soonest maturity first (the slot breaks ties, so the order is
        total and pages never overlap); `totals` adds the live fragments' count and value (else 0); `page` is
        (offset, limit)."""
        # (kept by triggers: counting the fragments here cost tens of ms a receivable at 100,000 fragments)
        live = (
            """coalesce((SELECT t.fragments FROM live_totals t WHERE t.slot = r.slot), 0),
               coalesce((SELECT t.value FROM live_totals t WHERE t.slot = r.slot), 0)"""
            if totals
            else "0, 0"
        )
        cut = "" if page is None else "LIMIT ? OFFSET ?"
        sql = f"""SELECT r.slot, r.debtor, r.supplier, r.face_value, r.maturity, r.document_hash, r.state,
                         r.issued_at, r.fragments_created, r.repaid, r.redeemed_value, r.paid_out, {live}
                  FROM receivables r {"WHERE " + " AND ".join(where) if where else ""}
                  ORDER BY r.maturity, r.slot {cut}"""
        if page is not None:
            offset, limit = page
            params = [*params, limit, offset]
        return [
            ReceivableRow(
                slot=int(slot, 16),
                debtor=debtor,
                supplier=supplier,
                face_value=face,
                maturity=maturity,
                document_hash=doc,
                state=self._state(st, maturity, now),
                issued_at=issued_at,
                fragments_created=created,
                live_fragments=live_n,
                live_value=live_v,
                repaid=repaid,
                redeemed_value=redeemed,
                paid_out=paid_out,
            )
            for (
                slot,
                debtor,
                supplier,
                face,
                maturity,
                doc,
                st,
                issued_at,
                created,
                repaid,
                redeemed,
                paid_out,
                live_n,
                live_v,
            ) in self._conn.execute(sql, params)
        ]

    @_locked
    def tree(self, slot: int, *, at: int | None = None) -> ReceivableTree | None:
        """The receivable in `slot` and all its fragments (burned ones too, flagged), children by parent."""
        found = self._receivables(["r.slot = ?"], [slot_key(slot)], self._now(at), totals=False)
        if not found:
            return None
        base = token_id_of(slot, 0)
        rows = self._conn.execute(
            """SELECT sequence, coalesce(parent, 0), owner, value, tier, frozen | (financed << 1) | (burned << 2)
               FROM fragments WHERE slot = ? ORDER BY sequence""",
            (slot_key(slot),),
        )
        # (SQLite's bitwise operators share one precedence: hence the brackets.) Rows are streamed, not
        # fetched all at once, so each is freed as soon as its node exists.
        make = FragmentNode._make
        nodes = [make((base | s, s, p, o, v, t, (f & 1) == 1, (f & 2) == 2, (f & 4) == 4)) for s, p, o, v, t, f in rows]
        children: dict[int, list[FragmentNode]] = {}
        live_n = live_v = 0
        for node in nodes:
            children.setdefault(node.parent_sequence, []).append(node)
            if not node.burned:
                live_n += 1
                live_v += node.value
        receivable = replace(found[0], live_fragments=live_n, live_value=live_v)
        return ReceivableTree(receivable, nodes, children)

    @_locked
    def touched_by(self, slot: int, account: str) -> tuple[list[int], dict[int, int]]:
        """Of the receivable `slot`: the fragments `account` holds (or held last, burned), and those split off to
        others out of fragments it held, each with the value it sent; read through indexes, not the whole tree."""
        key = slot_key(slot)
        held = [
            token_id_at(key, seq)
            for (seq,) in self._conn.execute(
                "SELECT sequence FROM fragments INDEXED BY fragments_by_slot_owner WHERE slot = ? AND owner = ? "
                "ORDER BY sequence",
                (key, account),
            )
        ]
        sent = {
            token_id_at(key, seq): value
            for seq, value in self._conn.execute(
                # (named: without statistics SQLite would read the whole receivable through the primary key)
                """SELECT sequence, created_value FROM fragments INDEXED BY fragments_by_slot_sender
                   WHERE slot = ? AND created_from = ? AND parent > 0 ORDER BY sequence""",
                (key, account),
            )
        }
        return held, sent

    @_locked
    def first_fragment(self, slot: int) -> int | None:
        """The receivable's first fragment (the one issued to the supplier), if indexed."""
        key = slot_key(slot)
        row = self._conn.execute("SELECT min(sequence) FROM fragments WHERE slot = ?", (key,)).fetchone()
        return None if row is None or row[0] is None else token_id_at(key, row[0])

    @_locked
    def with_paths(self, slot: int, token_ids: Iterable[int]) -> set[int]:
        """Those of `token_ids` that are fragments of `slot`, and every fragment on their paths to the first."""
        key = slot_key(slot)
        wanted = [token_key(t)[1] for t in token_ids if slot_of(t) == slot]
        if not wanted:
            return set()
        rows = self._conn.execute(
            """WITH RECURSIVE up(seq) AS (
                   SELECT f.sequence FROM fragments f
                   WHERE f.slot = ? AND f.sequence IN (SELECT value FROM json_each(?))
                   UNION
                   SELECT f.parent FROM fragments f JOIN up ON f.slot = ? AND f.sequence = up.seq WHERE f.parent > 0
               )
               SELECT seq FROM up""",
            (key, json.dumps(wanted), key),
        )
        return {token_id_at(key, seq) for (seq,) in rows}

    @_locked
    def partial_tree(self, slot: int, token_ids: Iterable[int], *, at: int | None = None) -> ReceivableTree | None:
        """The receivable in `slot` (its live totals whole) with only the fragments `token_ids` of it: what a
        member who may see part of a receivable is shown, read without the rest of the tree."""
        found = self._receivables(["r.slot = ?"], [slot_key(slot)], self._now(at), totals=True)
        if not found:
            return None
        key, base = slot_key(slot), token_id_of(slot, 0)
        wanted = [token_key(t)[1] for t in token_ids if slot_of(t) == slot]
        rows = self._conn.execute(
            """SELECT sequence, coalesce(parent, 0), owner, value, tier, frozen | (financed << 1) | (burned << 2)
               FROM fragments WHERE slot = ? AND sequence IN (SELECT value FROM json_each(?)) ORDER BY sequence""",
            (key, json.dumps(wanted)),
        )
        make = FragmentNode._make
        nodes = [make((base | s, s, p, o, v, t, (f & 1) == 1, (f & 2) == 2, (f & 4) == 4)) for s, p, o, v, t, f in rows]
        children: dict[int, list[FragmentNode]] = {}
        for node in nodes:
            children.setdefault(node.parent_sequence, []).append(node)
        return ReceivableTree(found[0], nodes, children)

    @_locked
    def fragment(self, token_id: int) -> FragmentInfo | None:
        slot, seq = token_key(token_id)
        row = self._conn.execute(
            """SELECT parent, owner, value, tier, frozen, financed, burned, created_value, created_from, memo,
                      created_block, created_time, paid
               FROM fragments WHERE slot = ? AND sequence = ?""",
            (slot, seq),
        ).fetchone()
        if row is None:
            return None
        parent, owner, value, tier, frozen, fin, burned, cv, frm, memo, block, t, paid = row
        return FragmentInfo(
            token_id=token_id,
            slot=slot_of(token_id),
            sequence=seq,
            parent_id=token_id_at(slot, parent) if parent else 0,
            owner=owner,
            value=value,
            tier=tier,
            frozen=frozen == 1,
            financed=fin == 1,
            burned=burned == 1,
            created_value=cv,
            created_from=frm or "",
            memo=memo,
            created_block=block,
            created_time=t,
            paid=paid,
        )

    @_locked
    def tier_totals(self, slot: int) -> list[TierTotal]:
        """Per tier: live fragments, distinct holders, value held, and how much of it financiers hold."""
        return [
            TierTotal(tier, n, holders, value, financed)
            for tier, n, holders, value, financed in self._conn.execute(
                """SELECT tier, count(*), count(DISTINCT owner), sum(value),
                          sum(CASE WHEN financed THEN value ELSE 0 END)
                   FROM fragments WHERE slot = ? AND burned = 0 GROUP BY tier ORDER BY tier""",
                (slot_key(slot),),
            )
        ]

    @_locked
    def resolve_slot(self, number: int) -> int | None:
        """The receivable `number` names: a slot, the token id of one of its fragments, or a document hash
        (slots hash the debtor with the document hash, so the hash is looked up; it names a receivable only
        when one debtor confirmed it)."""
        for candidate in (number, slot_of(number)):
            if 0 < candidate <= MAX_SLOT:
                hit = self._conn.execute("SELECT 1 FROM receivables WHERE slot = ?", (slot_key(candidate),)).fetchone()
                if hit:
                    return candidate
        if 0 < number < 1 << 256:
            rows = self._conn.execute(
                "SELECT slot FROM receivables WHERE document_hash = ?", (f"0x{number:064x}",)
            ).fetchall()
            if len(rows) == 1:
                return int(rows[0][0], 16)
        return None

    # ------------------------------------------------------------------ the desk

    @_locked
    def financings(
        self,
        *,
        financier: str | None = None,
        seller: str | None = None,
        party: str | None = None,
        request_hashes: Iterable[str] | None = None,
    ) -> list[Financing]:
        """Fragments bought through the FinancingDesk, in chain order: all, one financier's, one seller's, those
        `party` bought or sold, or those bought with the signed requests of `request_hashes` (0x-hex)."""
        where: list[str] = []
        params: list[Any] = []
        if financier is not None:
            where.append("financier = ?")
            params.append(to_checksum_address(financier))
        if seller is not None:
            where.append("seller = ?")
            params.append(to_checksum_address(seller))
        if party is not None:
            where.append("(financier = ? OR seller = ?)")
            params += [to_checksum_address(party)] * 2
        if request_hashes is not None:
            hashes = list(request_hashes)
            where.append(f"request_hash IN ({','.join('?' * len(hashes))})")
            params += hashes
        rows = self._conn.execute(
            f"""SELECT slot, sequence, source_sequence, seller, financier, value, price, recourse, block_number,
                       block_time, request_hash, tx_hash
                FROM financings {"WHERE " + " AND ".join(where) if where else ""}
                ORDER BY block_number, tx_index, log_index""",
            params,
        )
        return [
            Financing(
                token_id_at(slot, seq), token_id_at(slot, src), seller, fin, value, price, bool(rec), block, t, rh, tx
            )
            for slot, seq, src, seller, fin, value, price, rec, block, t, rh, tx in rows
        ]

    @_locked
    def cancelled_nonces(self, signers: Iterable[str]) -> set[tuple[str, int]]:
        """(signer, nonce) of every financing request `signers` cancelled on the desk."""
        accounts = [to_checksum_address(s) for s in signers]
        rows = self._conn.execute(
            f"SELECT signer, nonce FROM cancelled_requests WHERE signer IN ({','.join('?' * len(accounts))})",
            accounts,
        )
        return {(str(signer), int(nonce)) for signer, nonce in rows}

    # ------------------------------------------------------------------ members, credit, cash, settings

    @_locked
    def members(self) -> list[Member]:
        return [
            Member(a, Role(r), bool(s))
            for a, r, s in self._conn.execute("SELECT account, role, suspended FROM members ORDER BY account")
        ]

    @_locked
    def cash_balances(self) -> dict[str, int]:
        return {str(a): int(b) for a, b in self._conn.execute("SELECT account, balance FROM cash_balances")}

    @_locked
    def credit_lines(self) -> dict[str, tuple[int, int]]:
        """debtor -> (limit, used), used being the face value of its receivables not yet repaid or withdrawn."""
        in_use = ",".join(str(int(s)) for s in _CREDIT_IN_USE)
        limits = {str(d): int(lim) for d, lim in self._conn.execute("SELECT debtor, credit_limit FROM credit_lines")}
        used = {
            str(d): int(u)
            for d, u in self._conn.execute(
                f"SELECT debtor, sum(face_value) FROM receivables WHERE state IN ({in_use}) GROUP BY debtor"
            )
        }
        return {d: (limits.get(d, 0), used.get(d, 0)) for d in sorted(set(limits) | set(used))}

    @_locked
    def setting(self, name: str) -> int | None:
        """A contract setting the events announced: "max_tenor" or "grace_period" (seconds)."""
        row = self._conn.execute("SELECT value FROM settings WHERE name = ?", (name,)).fetchone()
        return None if row is None else int(row[0])
