"""The event index: every event of a deployment in SQLite, and the questions asked of it answered there.

    index = EventIndex("scf-index.sqlite")            # or ":memory:"
    Indexer(index, w3, contracts).sync()              # incremental: from the last indexed block on
    index.holdings(address)                           # fragments held, with debtor, maturity, tier, state
    index.path_to_root(token_id)                      # each hop back to the confirmed receivable
    index.tree(slot)                                  # the whole split tree (穿透式追溯)
    index.receivables(debtor=..., state=..., min_value=...)
    index.tier_totals(slot)                           # how much value reached tier 1, 2, 3, ...
    index.financings(financier=...)                   # what financiers bought through the FinancingDesk
    reconcile(index, scf)                             # every difference between the index and the chain

How it is kept right:

- **Events are the source.** Every log of the deployment's contracts is stored in `events`, keyed by its place
  in the chain (block, transaction index, log index), decoded with the contract's ABI (an event the ABI does
  not know is stored raw). The other tables (receivables, fragments, members, cash, credit lines) are a
  projection: applying the stored events in chain order yields them, and `rebuild()` does exactly that.
  Events with no handler are stored and otherwise ignored; supporting a new event is one function decorated
  with `@handles("Contract", "EventName")`, and an index made by a program with other handlers is rebuilt
  from its stored events at the next sync.
- **Incremental and restartable.** Each range of blocks is fetched with `eth_getLogs` and written in one SQLite
  transaction together with the cursor (last indexed block and its hash); a crash loses nothing and repeats
  nothing. Events are written with `INSERT OR REPLACE` keyed by their place, so storing a range again after
  a rewind cannot duplicate one.
- **Self-checking.** `blocks` records how many of our logs each block had. A sync first checks that the
  stored events still add up (and the projection's row counts match); if rows went missing it rewinds to
  the first incomplete block, rebuilds the projection and reads on from there. It also checks that the
  cursor's block hash is still the chain's (a reorganisation) and rewinds to the last block both agree on.
- **Confirmations.** On a chain without instant finality, `confirmations=N` indexes only blocks with at least
  N blocks on top. (QBFT, the production consensus, is final at once: 0.)

Tier: the supplier the receivable was issued to holds tier 1. A fragment that moves to another holder (split
off, or transferred whole) is one tier deeper than its sender's; moving to oneself keeps the tier; a
financier's fragment keeps the tier it was bought at and is marked `financed`.
"""

from __future__ import annotations

import functools
import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, NamedTuple, TypeVar, cast

from eth_abi.abi import decode
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract
from web3.types import FilterParams, LogReceipt

from chain_client import rules
from chain_client.artifacts import load_artifact
from chain_client.client import ScfClient
from chain_client.deploy import DeploymentRecord
from chain_client.exceptions import ContractError, decode_revert
from chain_client.membership import Role
from chain_client.receivables import ReceivableState
from chain_client.tx import _revert_data

SCHEMA_VERSION = 1
ZERO_ADDRESS = "0x" + "00" * 20
_SEQUENCE_BITS = 32
_SEQUENCE_MASK = (1 << _SEQUENCE_BITS) - 1

# Stored states that still use the debtor's credit line (released by repayment, rejection, cancellation).
_CREDIT_IN_USE = (ReceivableState.PENDING, ReceivableState.ACTIVE, ReceivableState.MATURED, ReceivableState.OVERDUE)


class IndexMismatch(ValueError):
    """The index file was built for another chain or another deployment."""


# ---------------------------------------------------------------------------------------------- ids


def slot_key(slot: int) -> str:
    """Slots are 224-bit numbers; SQLite integers are 64-bit, so a slot is stored as fixed-width hex."""
    if not 0 < slot < 1 << 224:
        raise ValueError(f"not a slot: {slot}")
    return f"{slot:056x}"


def token_key(token_id: int) -> tuple[str, int]:
    return slot_key(token_id >> _SEQUENCE_BITS), token_id & _SEQUENCE_MASK


def _token_id(slot_hex: str, sequence: int) -> int:
    return int(slot_hex, 16) << _SEQUENCE_BITS | sequence


# ---------------------------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class Holding:
    """A live fragment held by an account, with what a lender asks about it."""

    token_id: int
    slot: int
    value: int
    debtor: str
    maturity: int
    tier: int
    state: ReceivableState
    frozen: bool
    financed: bool
    parent_id: int


@dataclass(frozen=True, slots=True)
class Hop:
    """One fragment on the way from a fragment back to the receivable's first fragment.

    `holder` holds it now; `from_holder` paid it out (the parent's holder when it was split off, the debtor
    for the first fragment); `created_value` is what was split off, `value` what it holds now; `memo` is the
    hash of the trade documents behind the payment (the receivable's document hash for the first fragment).
    """

    token_id: int
    holder: str
    tier: int
    value: int
    created_value: int
    from_holder: str
    memo: str | None
    block_number: int
    block_time: int
    tx_hash: str
    burned: bool


class FragmentNode(NamedTuple):
    """A fragment in a tree: lean, since a tree can hold many thousands (details: `EventIndex.fragment`)."""

    token_id: int
    sequence: int
    parent_sequence: int  # 0 for the first fragment
    owner: str  # the last holder, for a burned fragment
    value: int
    tier: int
    frozen: bool
    financed: bool
    burned: bool


@dataclass(frozen=True, slots=True)
class FragmentInfo:
    """Everything the index knows about one fragment."""

    token_id: int
    slot: int
    sequence: int
    parent_id: int
    owner: str
    value: int
    tier: int
    frozen: bool
    financed: bool
    burned: bool
    created_value: int
    created_from: str
    memo: str | None
    created_block: int
    created_time: int
    paid: int  # cash paid out to its holders so far


@dataclass(frozen=True, slots=True)
class ReceivableRow:
    slot: int
    debtor: str
    supplier: str
    face_value: int
    maturity: int
    document_hash: str
    state: ReceivableState
    issued_at: int
    fragments_created: int
    live_fragments: int
    live_value: int
    repaid: int
    redeemed_value: int
    paid_out: int


@dataclass(frozen=True)
class ReceivableTree:
    """A receivable and every fragment it ever had (burned ones flagged), arranged by parent."""

    receivable: ReceivableRow
    fragments: list[FragmentNode]
    children: dict[int, list[FragmentNode]] = field(repr=False)

    @property
    def live(self) -> list[FragmentNode]:
        return [f for f in self.fragments if not f.burned]


@dataclass(frozen=True, slots=True)
class TierTotal:
    tier: int
    fragments: int
    holders: int
    value: int
    financed_value: int


@dataclass(frozen=True, slots=True)
class Financing:
    """A fragment a financier bought through the FinancingDesk (融资/贴现)."""

    token_id: int  # the financier's fragment
    source_id: int  # the fragment it came out of (the same id when the whole fragment was sold)
    seller: str
    financier: str
    value: int
    price: int
    recourse: bool
    block_number: int
    block_time: int


@dataclass(frozen=True, slots=True)
class Member:
    account: str
    role: Role
    suspended: bool


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


# ---------------------------------------------------------------------------------------------- schema

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS blocks (
    number INTEGER PRIMARY KEY, hash TEXT NOT NULL, timestamp INTEGER NOT NULL, log_count INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    block_number INTEGER NOT NULL,
    tx_index INTEGER NOT NULL,
    log_index INTEGER NOT NULL,
    tx_hash TEXT NOT NULL,
    contract TEXT NOT NULL,
    event TEXT NOT NULL,
    args TEXT NOT NULL,
    PRIMARY KEY (block_number, tx_index, log_index)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS receivables (
    slot TEXT PRIMARY KEY,
    debtor TEXT NOT NULL,
    supplier TEXT NOT NULL,
    face_value INTEGER NOT NULL,
    maturity INTEGER NOT NULL,
    document_hash TEXT NOT NULL,
    state INTEGER NOT NULL,
    issued_at INTEGER NOT NULL,
    issued_block INTEGER NOT NULL,
    fragments_created INTEGER NOT NULL,
    repaid INTEGER NOT NULL DEFAULT 0,
    redeemed_value INTEGER NOT NULL DEFAULT 0,
    paid_out INTEGER NOT NULL DEFAULT 0,
    updated_block INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS receivables_by_debtor ON receivables (debtor, maturity);
CREATE INDEX IF NOT EXISTS receivables_by_maturity ON receivables (maturity);
CREATE TABLE IF NOT EXISTS fragments (
    slot TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    owner TEXT NOT NULL,
    value INTEGER NOT NULL,
    parent INTEGER,                      -- parent's sequence; 0 for the first fragment; NULL until funded
    tier INTEGER NOT NULL DEFAULT 0,
    financed INTEGER NOT NULL DEFAULT 0,
    frozen INTEGER NOT NULL DEFAULT 0,
    burned INTEGER NOT NULL DEFAULT 0,
    burned_value INTEGER NOT NULL DEFAULT 0,
    paid INTEGER NOT NULL DEFAULT 0,     -- cash paid out to its holders so far
    memo TEXT,
    created_value INTEGER NOT NULL DEFAULT 0,
    created_from TEXT,
    created_block INTEGER NOT NULL,
    created_time INTEGER NOT NULL,
    created_tx TEXT NOT NULL,
    updated_block INTEGER NOT NULL,
    PRIMARY KEY (slot, sequence)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS fragments_by_owner ON fragments (owner) WHERE burned = 0;
CREATE TABLE IF NOT EXISTS members (
    account TEXT PRIMARY KEY, role INTEGER NOT NULL, suspended INTEGER NOT NULL, kyc_hash TEXT NOT NULL,
    updated_block INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS credit_lines (debtor TEXT PRIMARY KEY, credit_limit INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS cash_balances (account TEXT PRIMARY KEY, balance INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS financings (
    slot TEXT NOT NULL,
    sequence INTEGER NOT NULL,          -- the financier's fragment
    source_sequence INTEGER NOT NULL,   -- the fragment it was bought out of (the same one for a whole sale)
    seller TEXT NOT NULL,
    financier TEXT NOT NULL,
    value INTEGER NOT NULL,
    price INTEGER NOT NULL,
    recourse INTEGER NOT NULL,
    block_number INTEGER NOT NULL,
    block_time INTEGER NOT NULL,
    PRIMARY KEY (slot, sequence)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS financings_by_financier ON financings (financier);
CREATE TABLE IF NOT EXISTS labels (account TEXT PRIMARY KEY, label TEXT NOT NULL);
"""

# The projection: rebuilt from `events` whenever the stored events change below the cursor.
_PROJECTION = ("receivables", "fragments", "members", "credit_lines", "cash_balances", "settings", "financings")


# ---------------------------------------------------------------------------------------------- the store

_R = TypeVar("_R")


def _locked(method: Callable[..., _R]) -> Callable[..., _R]:
    """Run a query under the index's lock: a follower thread writing through the same connection is never seen
    half-way through a batch."""

    @functools.wraps(method)
    def run(self: EventIndex, *args: Any, **kwargs: Any) -> _R:
        with self.lock:
            return method(self, *args, **kwargs)

    return run


class EventIndex:
    """The SQLite store and its queries. Needs no chain: `scf tree` and `scf holdings` read only this."""

    def __init__(self, path: str | Path = ":memory:", *, create: bool = True) -> None:
        self.path = str(path)
        if self.path != ":memory:" and not create and not Path(self.path).exists():
            raise FileNotFoundError(f"no index at {self.path}")
        self.conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.lock = threading.RLock()
        try:
            if self.path != ":memory:":
                self.conn.execute("PRAGMA journal_mode=WAL")  # readers (the CLI) never block the follower
                self.conn.execute("PRAGMA synchronous=NORMAL")
            version = self._meta("schema_version")
        except sqlite3.DatabaseError as exc:
            self.conn.close()
            raise ValueError(f"{self.path} is not an index database ({exc})") from None
        if version is not None and int(version) != SCHEMA_VERSION:
            raise IndexMismatch(f"{self.path} has index schema {version}, this program reads {SCHEMA_VERSION}")
        self.conn.executescript(_SCHEMA)
        if version is None:
            self._set_meta("schema_version", str(SCHEMA_VERSION))

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> EventIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self.lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    # ------------------------------------------------------------------ meta

    def _meta(self, key: str) -> str | None:
        try:
            row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return None
            raise
        return None if row is None else str(row[0])

    def _set_meta(self, key: str, value: str) -> None:
        self.conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

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
        return int(self.conn.execute("SELECT count(*) FROM events").fetchone()[0])

    # ------------------------------------------------------------------ labels

    def set_label(self, account: str, label: str) -> None:
        with self.lock:
            self.conn.execute(
                "INSERT OR REPLACE INTO labels (account, label) VALUES (?, ?)", (to_checksum_address(account), label)
            )

    @_locked
    def labels(self) -> dict[str, str]:
        return {str(a): str(n) for a, n in self.conn.execute("SELECT account, label FROM labels")}

    @_locked
    def account_of(self, text: str) -> str:
        """An address (any case) or a label given with `set_label`, as a checksummed address."""
        if Web3.is_address(text):
            return to_checksum_address(text)
        row = self.conn.execute("SELECT account FROM labels WHERE label = ?", (text,)).fetchone()
        if row is None:
            raise ValueError(f"not an address, nor a name in the index: {text!r}")
        return str(row[0])

    # ------------------------------------------------------------------ queries

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
        rows = self.conn.execute(
            """SELECT f.slot, f.sequence, f.value, r.debtor, r.maturity, f.tier, r.state, f.frozen, f.financed,
                      f.parent
               FROM fragments f JOIN receivables r ON r.slot = f.slot
               WHERE f.owner = ? AND f.burned = 0
               ORDER BY f.slot, f.sequence""",
            (to_checksum_address(account),),
        ).fetchall()
        return [
            Holding(
                token_id=_token_id(slot, seq),
                slot=int(slot, 16),
                value=value,
                debtor=debtor,
                maturity=maturity,
                tier=tier,
                state=self._state(state, maturity, now),
                frozen=bool(frozen),
                financed=bool(financed),
                parent_id=_token_id(slot, parent) if parent else 0,
            )
            for slot, seq, value, debtor, maturity, tier, state, frozen, financed, parent in rows
        ]

    @_locked
    def path_to_root(self, token_id: int) -> list[Hop]:
        """`token_id` first, then its parent, ..., down to the fragment issued to the supplier."""
        slot, sequence = token_key(token_id)
        rows = self.conn.execute(
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
                token_id=_token_id(slot, seq),
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
        """Receivables by debtor, (effective) state, maturity range [from, to] and minimum face value."""
        now = self._now(at)
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
        return self._receivables(where, params, now, totals=True)

    def _receivables(self, where: list[str], params: list[Any], now: int, *, totals: bool) -> list[ReceivableRow]:
        """Rows of `receivables` matching `where`; `totals` adds the live fragments' count and value (else 0)."""
        live = (
            """(SELECT count(*) FROM fragments f WHERE f.slot = r.slot AND f.burned = 0),
               (SELECT coalesce(sum(f.value), 0) FROM fragments f WHERE f.slot = r.slot AND f.burned = 0)"""
            if totals
            else "0, 0"
        )
        sql = f"""SELECT r.slot, r.debtor, r.supplier, r.face_value, r.maturity, r.document_hash, r.state,
                         r.issued_at, r.fragments_created, r.repaid, r.redeemed_value, r.paid_out, {live}
                  FROM receivables r {"WHERE " + " AND ".join(where) if where else ""}
                  ORDER BY r.maturity, r.slot"""
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
            ) in self.conn.execute(sql, params)
        ]

    @_locked
    def tree(self, slot: int, *, at: int | None = None) -> ReceivableTree | None:
        """The receivable in `slot` and all its fragments (burned ones too, flagged), children by parent."""
        found = self._receivables(["r.slot = ?"], [slot_key(slot)], self._now(at), totals=False)
        if not found:
            return None
        base = slot << _SEQUENCE_BITS
        rows = self.conn.execute(
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
    def fragment(self, token_id: int) -> FragmentInfo | None:
        slot, seq = token_key(token_id)
        row = self.conn.execute(
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
            slot=token_id >> _SEQUENCE_BITS,
            sequence=seq,
            parent_id=token_id - seq + parent if parent else 0,
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
            for tier, n, holders, value, financed in self.conn.execute(
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
        for candidate in (number, number >> _SEQUENCE_BITS):
            if 0 < candidate < 1 << 224:
                hit = self.conn.execute("SELECT 1 FROM receivables WHERE slot = ?", (slot_key(candidate),)).fetchone()
                if hit:
                    return candidate
        if 0 < number < 1 << 256:
            rows = self.conn.execute(
                "SELECT slot FROM receivables WHERE document_hash = ?", (f"0x{number:064x}",)
            ).fetchall()
            if len(rows) == 1:
                return int(rows[0][0], 16)
        return None

    @_locked
    def financings(self, *, financier: str | None = None) -> list[Financing]:
        """Fragments bought through the FinancingDesk, oldest first; all, or one financier's."""
        where, params = ("WHERE financier = ?", [to_checksum_address(financier)]) if financier else ("", [])
        return [
            Financing(_token_id(slot, seq), _token_id(slot, src), seller, fin, value, price, bool(rec), block, t)
            for slot, seq, src, seller, fin, value, price, rec, block, t in self.conn.execute(
                f"""SELECT slot, sequence, source_sequence, seller, financier, value, price, recourse,
                           block_number, block_time
                    FROM financings {where} ORDER BY block_number, slot, sequence""",
                params,
            )
        ]

    @_locked
    def members(self) -> list[Member]:
        return [
            Member(a, Role(r), bool(s))
            for a, r, s in self.conn.execute("SELECT account, role, suspended FROM members ORDER BY account")
        ]

    @_locked
    def cash_balances(self) -> dict[str, int]:
        return {str(a): int(b) for a, b in self.conn.execute("SELECT account, balance FROM cash_balances")}

    @_locked
    def credit_lines(self) -> dict[str, tuple[int, int]]:
        """debtor -> (limit, used), used being the face value of its receivables not yet repaid or withdrawn."""
        in_use = ",".join(str(int(s)) for s in _CREDIT_IN_USE)
        limits = {str(d): int(lim) for d, lim in self.conn.execute("SELECT debtor, credit_limit FROM credit_lines")}
        used = {
            str(d): int(u)
            for d, u in self.conn.execute(
                f"SELECT debtor, sum(face_value) FROM receivables WHERE state IN ({in_use}) GROUP BY debtor"
            )
        }
        return {d: (limits.get(d, 0), used.get(d, 0)) for d in sorted(set(limits) | set(used))}

    @_locked
    def setting(self, name: str) -> int | None:
        row = self.conn.execute("SELECT value FROM settings WHERE name = ?", (name,)).fetchone()
        return None if row is None else int(row[0])

    # ------------------------------------------------------------------ maintenance

    def rebuild(self) -> None:
        """Recompute every projected table from the stored events."""
        with self.transaction() as conn:
            self._rebuild(conn)

    def _rebuild(self, conn: sqlite3.Connection) -> None:
        for table in _PROJECTION:
            conn.execute(f"DELETE FROM {table}")
        rows = conn.execute(
            """SELECT e.block_number, e.tx_index, e.log_index, e.tx_hash, e.contract, e.event, e.args,
                      coalesce(b.timestamp, 0)
               FROM events e LEFT JOIN blocks b ON b.number = e.block_number
               ORDER BY e.block_number, e.tx_index, e.log_index"""
        ).fetchall()
        apply = _Projector(conn)
        for block, tx_index, log_index, tx_hash, contract, name, args, ts in rows:
            apply(Event(contract, name, json.loads(args), block, ts, tx_hash, tx_index, log_index))
        self._save_counts(conn)

    def _counts(self, conn: sqlite3.Connection) -> dict[str, int]:
        return {t: int(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]) for t in ("receivables", "fragments")}

    def _save_counts(self, conn: sqlite3.Connection) -> None:
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('projection_counts', ?)", (json.dumps(self._counts(conn)),))
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('projection_handlers', ?)", (_handlers_signature(),))

    def _first_incomplete_block(self, conn: sqlite3.Connection) -> int | None:
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

    def _projection_damaged(self, conn: sqlite3.Connection) -> bool:
        """Rows of the projection went missing, or it was made by other handlers (a program that knew fewer
        events): either way, rebuild it from the stored events."""
        saved = self._meta("projection_counts")
        if saved is not None and json.loads(saved) != self._counts(conn):
            return True
        handlers = self._meta("projection_handlers")
        return handlers is not None and handlers != _handlers_signature()


# ---------------------------------------------------------------------------------------------- events


@dataclass(frozen=True, slots=True)
class Event:
    """A decoded log, in chain order. `args` are JSON-ready: ints, checksummed addresses, 0x-hex bytes."""

    contract: str
    name: str
    args: dict[str, Any]
    block_number: int
    block_time: int
    tx_hash: str
    tx_index: int
    log_index: int


class _EventDecoder:
    def __init__(self, abi: dict[str, Any]) -> None:
        self.name = str(abi["name"])
        inputs = abi["inputs"]
        self.signature = f"{self.name}({','.join(_abi_type(i) for i in inputs)})"
        self.topic = HexBytes(keccak(text=self.signature))
        self.indexed = [(str(i["name"]), _abi_type(i)) for i in inputs if i.get("indexed")]
        self.plain = [(str(i["name"]), _abi_type(i)) for i in inputs if not i.get("indexed")]

    def decode(self, log: LogReceipt) -> dict[str, Any]:
        topics = log["topics"][1:]
        if len(topics) != len(self.indexed):
            raise ValueError(f"{self.signature}: {len(topics)} indexed topics, ABI says {len(self.indexed)}")
        args: dict[str, Any] = {}
        for (name, typ), topic in zip(self.indexed, topics, strict=True):
            if typ in ("string", "bytes") or typ.endswith("]") or typ.startswith("("):
                args[name] = HexBytes(topic).to_0x_hex()  # indexed dynamic values are only their hash
            else:
                args[name] = _jsonable(typ, decode([typ], bytes(HexBytes(topic)))[0])
        values = decode([t for _, t in self.plain], bytes(HexBytes(log["data"]))) if self.plain else ()
        for (name, typ), value in zip(self.plain, values, strict=True):
            args[name] = _jsonable(typ, value)
        return args


def _abi_type(item: Mapping[str, Any]) -> str:
    typ = str(item["type"])
    if typ.startswith("tuple"):
        inner = ",".join(_abi_type(c) for c in item["components"])
        return f"({inner}){typ[5:]}"
    return typ


def _jsonable(typ: str, value: Any) -> Any:
    if typ == "address":
        return to_checksum_address(value)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, list | tuple):
        return [_jsonable(typ.split("[")[0], v) for v in value]
    return value


# ---------------------------------------------------------------------------------------------- projection

Handler = Callable[["_Projector", Event], None]
_HANDLERS: dict[tuple[str, str], Handler] = {}


def handles(contract: str, event: str) -> Callable[[Handler], Handler]:
    """Register the projection of `event` of `contract` (events without one are stored and skipped)."""

    def register(fn: Handler) -> Handler:
        _HANDLERS[(contract, event)] = fn
        return fn

    return register


def handled_events() -> list[tuple[str, str]]:
    return sorted(_HANDLERS)


def _handlers_signature() -> str:
    return ",".join(f"{contract}.{event}" for contract, event in handled_events())


class _Projector:
    """Applies events to the projected tables, in chain order, inside the caller's transaction."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.db = conn

    def __call__(self, event: Event) -> None:
        handler = _HANDLERS.get((event.contract, event.name))
        if handler is not None:
            handler(self, event)

    def role_of(self, account: str) -> Role:
        row = self.db.execute("SELECT role FROM members WHERE account = ?", (account,)).fetchone()
        return Role(row[0]) if row else Role.NONE

    def fragment(self, token_id: int) -> tuple[str, int, str, int, int | None, int, int] | None:
        """(slot, sequence, owner, value, parent, tier, financed) of `token_id`."""
        slot, seq = token_key(token_id)
        row = self.db.execute(
            "SELECT owner, value, parent, tier, financed FROM fragments WHERE slot = ? AND sequence = ?", (slot, seq)
        ).fetchone()
        return None if row is None else (slot, seq, row[0], row[1], row[2], row[3], row[4])

    def tier_after_move(self, sender: str, sender_tier: int, sender_financed: int, to: str) -> tuple[int, int]:
        """(tier, financed) of value that moves from a holder at `sender_tier` to `to`."""
        if to == sender:
            return sender_tier, sender_financed
        if self.role_of(to) is Role.FINANCIER:
            return sender_tier, 1
        return sender_tier + 1, 0

    def set_state(self, slot: int, state: ReceivableState, block: int) -> None:
        self.db.execute(
            "UPDATE receivables SET state = ?, updated_block = ? WHERE slot = ?", (int(state), block, slot_key(slot))
        )


# --- ReceivableToken: fragments


@handles("ReceivableToken", "Transfer")
def _on_fragment_transfer(p: _Projector, e: Event) -> None:
    frm, to, token_id = e.args["from"], e.args["to"], int(e.args["tokenId"])
    slot, seq = token_key(token_id)
    if frm == ZERO_ADDRESS:  # minted: funded (and its parent known) by the TransferValue that follows
        p.db.execute(
            """INSERT OR REPLACE INTO fragments (slot, sequence, owner, value, parent, created_block, created_time,
                                                 created_tx, updated_block)
               VALUES (?, ?, ?, 0, NULL, ?, ?, ?, ?)""",
            (slot, seq, to, e.block_number, e.block_time, e.tx_hash, e.block_number),
        )
        p.db.execute("UPDATE receivables SET fragments_created = max(fragments_created, ?) WHERE slot = ?", (seq, slot))
    elif to == ZERO_ADDRESS:  # burned (rejected, cancelled or paid in full); its row stays for tracing
        p.db.execute(
            "UPDATE fragments SET burned = 1, frozen = 0, updated_block = ? WHERE slot = ? AND sequence = ?",
            (e.block_number, slot, seq),
        )
    else:  # handed over whole
        current = p.fragment(token_id)
        if current is None:
            return
        tier, financed = p.tier_after_move(frm, current[5], current[6], to)
        p.db.execute(
            """UPDATE fragments SET owner = ?, tier = ?, financed = ?, updated_block = ?
               WHERE slot = ? AND sequence = ?""",
            (to, tier, financed, e.block_number, slot, seq),
        )


@handles("ReceivableToken", "TransferValue")
def _on_transfer_value(p: _Projector, e: Event) -> None:
    frm, to, value = int(e.args["_fromTokenId"]), int(e.args["_toTokenId"]), int(e.args["_value"])
    block = e.block_number
    if frm:
        slot, seq = token_key(frm)
        if to:
            p.db.execute(
                "UPDATE fragments SET value = value - ?, updated_block = ? WHERE slot = ? AND sequence = ?",
                (value, block, slot, seq),
            )
        else:  # burn: remember what it held
            p.db.execute(
                """UPDATE fragments SET value = value - ?, burned_value = burned_value + ?, updated_block = ?
                   WHERE slot = ? AND sequence = ?""",
                (value, value, block, slot, seq),
            )
    if not to:
        return
    target = p.fragment(to)
    if target is None:
        return
    slot, seq, owner, _, parent, _, _ = target
    if parent is not None:  # a merge into an existing fragment
        p.db.execute(
            "UPDATE fragments SET value = value + ?, updated_block = ? WHERE slot = ? AND sequence = ?",
            (value, block, slot, seq),
        )
        return
    if not frm:  # the fragment issued to the supplier: tier 1, paid out by the debtor (set on ReceivableIssued)
        tier, financed, parent_seq, created_from = 1, 0, 0, None
    else:
        source = p.fragment(frm)
        assert source is not None, f"split from unknown fragment {frm}"
        _, parent_seq, sender, _, _, sender_tier, sender_financed = source
        tier, financed = p.tier_after_move(sender, sender_tier, sender_financed, owner)
        created_from = sender
    p.db.execute(
        """UPDATE fragments SET value = value + ?, parent = ?, tier = ?, financed = ?, created_value = ?,
                                created_from = ?, updated_block = ?
           WHERE slot = ? AND sequence = ?""",
        (value, parent_seq, tier, financed, value, created_from, block, slot, seq),
    )


@handles("ReceivableToken", "FragmentsSplit")
def _on_fragments_split(p: _Projector, e: Event) -> None:
    slot, first = token_key(int(e.args["firstTokenId"]))
    p.db.execute(
        "UPDATE fragments SET memo = ? WHERE slot = ? AND sequence BETWEEN ? AND ?",
        (e.args["memo"], slot, first, first + int(e.args["count"]) - 1),
    )


@handles("ReceivableToken", "Frozen")
def _on_frozen(p: _Projector, e: Event) -> None:
    slot, seq = token_key(int(e.args["tokenId"]))
    p.db.execute("UPDATE fragments SET frozen = 1 WHERE slot = ? AND sequence = ?", (slot, seq))


@handles("ReceivableToken", "Unfrozen")
def _on_unfrozen(p: _Projector, e: Event) -> None:
    slot, seq = token_key(int(e.args["tokenId"]))
    p.db.execute("UPDATE fragments SET frozen = 0 WHERE slot = ? AND sequence = ?", (slot, seq))


# --- ReceivableToken: life cycle


@handles("ReceivableToken", "ReceivableIssued")
def _on_issued(p: _Projector, e: Event) -> None:
    a = e.args
    slot, seq = token_key(int(a["tokenId"]))
    p.db.execute(
        """INSERT OR REPLACE INTO receivables (slot, debtor, supplier, face_value, maturity, document_hash, state,
                                               issued_at, issued_block, fragments_created, updated_block)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        (
            slot,
            a["debtor"],
            a["supplier"],
            int(a["faceValue"]),
            int(a["maturity"]),
            a["documentHash"],
            int(ReceivableState.PENDING),
            e.block_time,
            e.block_number,
            seq,
            e.block_number,
        ),
    )
    p.db.execute(
        "UPDATE fragments SET created_from = ?, memo = ? WHERE slot = ? AND sequence = ?",
        (a["debtor"], a["documentHash"], slot, seq),
    )


def _state_handler(event: str, state: ReceivableState) -> None:
    @handles("ReceivableToken", event)
    def _on_state(p: _Projector, e: Event) -> None:
        p.set_state(int(e.args["slot"]), state, e.block_number)


for _event, _state in (
    ("ReceivableAccepted", ReceivableState.ACTIVE),
    ("ReceivableRejected", ReceivableState.REJECTED),
    ("ReceivableCancelled", ReceivableState.CANCELLED),
    ("MaturityReached", ReceivableState.MATURED),
    ("ReceivableRepaid", ReceivableState.REPAID),
    ("ReceivableOverdue", ReceivableState.OVERDUE),
):
    _state_handler(_event, _state)


# --- ReceivableToken: repayment and settings


@handles("ReceivableToken", "RepaymentReceived")
def _on_repayment(p: _Projector, e: Event) -> None:
    p.db.execute(
        "UPDATE receivables SET repaid = ?, updated_block = ? WHERE slot = ?",
        (int(e.args["totalRepaid"]), e.block_number, slot_key(int(e.args["slot"]))),
    )


@handles("ReceivableToken", "FragmentRedeemed")
def _on_redeemed(p: _Projector, e: Event) -> None:
    slot, seq = token_key(int(e.args["tokenId"]))
    amount = int(e.args["amount"])
    p.db.execute("UPDATE fragments SET paid = paid + ? WHERE slot = ? AND sequence = ?", (amount, slot, seq))
    redeemed = 0
    if e.args["burned"]:
        row = p.db.execute("SELECT burned_value FROM fragments WHERE slot = ? AND sequence = ?", (slot, seq)).fetchone()
        redeemed = int(row[0]) if row else 0
    p.db.execute(
        """UPDATE receivables SET paid_out = paid_out + ?, redeemed_value = redeemed_value + ?, updated_block = ?
           WHERE slot = ?""",
        (amount, redeemed, e.block_number, slot),
    )


@handles("ReceivableToken", "CreditLineChanged")
def _on_credit_line(p: _Projector, e: Event) -> None:
    p.db.execute(
        "INSERT OR REPLACE INTO credit_lines (debtor, credit_limit) VALUES (?, ?)",
        (e.args["debtor"], int(e.args["newLimit"])),
    )


def _setting_handler(event: str, name: str) -> None:
    @handles("ReceivableToken", event)
    def _on_setting(p: _Projector, e: Event) -> None:
        p.db.execute("INSERT OR REPLACE INTO settings (name, value) VALUES (?, ?)", (name, int(e.args["newSeconds"])))


_setting_handler("MaxTenorChanged", "max_tenor")
_setting_handler("GracePeriodChanged", "grace_period")


# --- Membership


@handles("Membership", "MemberAdmitted")
def _on_admitted(p: _Projector, e: Event) -> None:
    p.db.execute(
        "INSERT OR REPLACE INTO members (account, role, suspended, kyc_hash, updated_block) VALUES (?, ?, 0, ?, ?)",
        (e.args["account"], int(e.args["role"]), e.args["kycHash"], e.block_number),
    )


@handles("Membership", "MemberSuspended")
def _on_suspended(p: _Projector, e: Event) -> None:
    p.db.execute(
        "UPDATE members SET suspended = 1, updated_block = ? WHERE account = ?", (e.block_number, e.args["account"])
    )


@handles("Membership", "MemberReinstated")
def _on_reinstated(p: _Projector, e: Event) -> None:
    p.db.execute(
        "UPDATE members SET suspended = 0, updated_block = ? WHERE account = ?", (e.block_number, e.args["account"])
    )


# --- FinancingDesk (the value moved through ReceivableToken events already; this records the deal)


@handles("FinancingDesk", "Financed")
def _on_financed(p: _Projector, e: Event) -> None:
    a = e.args
    slot, seq = token_key(int(a["financedTokenId"]))
    _, source = token_key(int(a["tokenId"]))
    p.db.execute(
        "INSERT OR REPLACE INTO financings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            slot,
            seq,
            source,
            a["seller"],
            a["financier"],
            int(a["value"]),
            int(a["price"]),
            int(bool(a["recourse"])),
            e.block_number,
            e.block_time,
        ),
    )
    p.db.execute("UPDATE fragments SET financed = 1 WHERE slot = ? AND sequence = ?", (slot, seq))


# --- SettlementToken (the cash leg)


@handles("SettlementToken", "Transfer")
def _on_cash_transfer(p: _Projector, e: Event) -> None:
    value = int(e.args["value"])
    for account, delta in ((e.args["from"], -value), (e.args["to"], value)):
        if account != ZERO_ADDRESS:
            p.db.execute(
                """INSERT INTO cash_balances (account, balance) VALUES (?, ?)
                   ON CONFLICT (account) DO UPDATE SET balance = balance + excluded.balance""",
                (account, delta),
            )


# ---------------------------------------------------------------------------------------------- syncing


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
        self._decoders: dict[str, dict[bytes, _EventDecoder]] = {}
        self._names: dict[str, str] = {}
        for name, address in self.addresses.items():
            try:
                abi = load_artifact(name)["abi"]
            except FileNotFoundError:
                abi = []  # a contract this program has no ABI for: its events are stored raw
            decoders = [
                _EventDecoder(item) for item in abi if item.get("type") == "event" and not item.get("anonymous")
            ]
            self._decoders[address] = {bytes(d.topic): d for d in decoders}
            self._names[address] = name
        self._bind(start_block)

    def _bind(self, start_block: int | None) -> None:
        """Record which chain and deployment the index is for; refuse an index made for another."""
        index = self.index
        chain_id = self.w3.eth.chain_id
        if index.chain_id is None:
            first = start_block if start_block is not None else deployment_block(self.w3, self.addresses.values())
            with index.transaction():
                index._set_meta("chain_id", str(chain_id))
                index._set_meta("addresses", json.dumps(self.addresses, sort_keys=True))
                index._set_meta("start_block", str(first))
            return
        if index.chain_id != chain_id:
            raise IndexMismatch(f"index {index.path} is for chain {index.chain_id}, connected to chain {chain_id}")
        if index.addresses != self.addresses:
            raise IndexMismatch(f"index {index.path} was built for another deployment ({index.addresses})")

    # ------------------------------------------------------------------ public

    def target_block(self) -> tuple[int, int]:
        """(head, last block deep enough to index)."""
        head = int(self.w3.eth.block_number)
        return head, head - self.confirmations

    def sync(self, *, to_block: int | None = None) -> SyncReport:
        """Index every block from the cursor up to `to_block` (default: head minus confirmations)."""
        index = self.index
        start = cast(int, index.start_block)
        rewound = self._repair()
        head, target = self.target_block()
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
            with index.transaction():  # nothing to read yet, but the index now has a cursor
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
                if not _is_transport_error(exc):
                    raise
                if on_unreachable is not None:
                    on_unreachable(exc)
            else:
                if on_sync is not None:
                    on_sync(report)
            stop.wait(interval)

    def rewind(self, block: int) -> None:
        """Forget every event after `block` and rebuild the projection; the next sync reads on from there."""
        with self.index.transaction() as conn:
            self._rewind(conn, block)

    # ------------------------------------------------------------------ internals

    def _repair(self) -> int | None:
        """Rewind past missing rows or a reorganisation; rebuild a damaged projection. Returns the rewind block."""
        index = self.index
        cursor = index.synced_block
        if cursor is None:
            return None
        with index.transaction() as conn:
            bad = index._first_incomplete_block(conn)
            fork = self._fork_point(conn, cursor)
            candidates = [b for b in (None if bad is None else bad - 1, fork) if b is not None]
            if candidates:
                to = min(candidates)
                self._rewind(conn, to)
                return to
            if index._projection_damaged(conn):
                index._rebuild(conn)
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
        except Exception as exc:
            if type(exc).__name__ in ("BlockNotFound", "BlockNumberOutOfRange"):
                return None
            raise

    def _rewind(self, conn: sqlite3.Connection, block: int) -> None:
        start = cast(int, self.index.start_block)
        block = max(block, start - 1)
        conn.execute("DELETE FROM events WHERE block_number > ?", (block,))
        conn.execute("DELETE FROM blocks WHERE number > ?", (block,))
        self.index._rebuild(conn)
        self._set_cursor(block)

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
            return list(self.w3.eth.get_logs(params))
        except Exception as exc:
            if b == a or _is_transport_error(exc):
                raise
            # Nodes cap the size of one answer: halve the range.
            mid = (a + b) // 2
            return self._get_logs(a, mid) + self._get_logs(mid + 1, b)

    def _store(self, logs: list[LogReceipt], to_block: int) -> None:
        """Write the logs of one block range, the blocks they are in, the projection and the cursor at once."""
        by_block: dict[int, list[LogReceipt]] = {}
        for log in logs:
            by_block.setdefault(int(log["blockNumber"]), []).append(log)
        headers = {n: self.w3.eth.get_block(n) for n in by_block}
        with self.index.transaction() as conn:
            project = _Projector(conn)
            for number in sorted(by_block):
                header = headers[number]
                block_time = int(header["timestamp"])
                block_logs = sorted(by_block[number], key=lambda lg: (int(lg["transactionIndex"]), int(lg["logIndex"])))
                conn.execute(
                    "INSERT OR REPLACE INTO blocks (number, hash, timestamp, log_count) VALUES (?, ?, ?, ?)",
                    (number, HexBytes(header["hash"]).to_0x_hex(), block_time, len(block_logs)),
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
            self.index._save_counts(conn)

    def _decode(self, log: LogReceipt, block_time: int) -> Event:
        address = to_checksum_address(log["address"])
        contract = self._names.get(address, address)
        topics = log["topics"]
        decoder = self._decoders.get(address, {}).get(bytes(HexBytes(topics[0]))) if topics else None
        args: dict[str, Any]
        if decoder is None:
            name = "?"
            args = {"topics": [HexBytes(t).to_0x_hex() for t in topics], "data": HexBytes(log["data"]).to_0x_hex()}
        else:
            name = decoder.name
            args = decoder.decode(log)
        return Event(
            contract=contract,
            name=name,
            args=args,
            block_number=int(log["blockNumber"]),
            block_time=block_time,
            tx_hash=HexBytes(log["transactionHash"]).to_0x_hex(),
            tx_index=int(log["transactionIndex"]),
            log_index=int(log["logIndex"]),
        )


def _is_transport_error(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def deployment_block(w3: Web3, addresses: Iterable[str]) -> int:
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
        if _is_transport_error(exc):
            raise
        return 0
    return first


# ---------------------------------------------------------------------------------------------- reconcile


@dataclass(frozen=True)
class Difference:
    """One way the index and the chain disagree."""

    what: str  # receivable, fragment, member, credit line, cash, owner count, receivables
    key: str
    field: str
    index: Any
    chain: Any

    def __str__(self) -> str:
        return f"{self.what} {self.key}: {self.field} is {self.index!r} in the index, {self.chain!r} on chain"


# Matured is derived from the clock: compare "active or matured" as one.
def _comparable(state: int) -> int:
    return int(ReceivableState.ACTIVE) if state == ReceivableState.MATURED else int(state)


def reconcile(index: EventIndex, client: ScfClient, *, block: int | None = None) -> list[Difference]:
    """Compare the index with the chain's state at the index's cursor block (or `block`); every difference.

    `client` is a `ScfClient` for the same deployment. Checks each receivable (the set of slots issued is read
    again from the chain), each fragment (owner, value, parent, frozen, burned), each receivable's live total,
    each holder's fragment count, each member's role and suspension, credit lines, cash balances and supply.
    """
    at = index.synced_block if block is None else block
    if at is None:
        raise ValueError("the index has not been synced yet")
    chain_id = client.w3.eth.chain_id
    if index.chain_id is not None and index.chain_id != chain_id:
        raise IndexMismatch(f"index is for chain {index.chain_id}, client is on chain {chain_id}")
    token = client.receivables.contract
    diffs: list[Difference] = []

    def call(fn: Any) -> Any:
        try:
            return fn.call(block_identifier=at)
        except Exception as exc:
            data = _revert_data(exc)
            if data is None:
                raise
            raise decode_revert(data) from None

    def differ(what: str, key: str, name: str, ours: Any, theirs: Any) -> None:
        if ours != theirs:
            diffs.append(Difference(what, key, name, ours, theirs))

    # Receivables: the index's slots against those the chain's ReceivableIssued events name.
    issued = token.events.ReceivableIssued()
    topic = HexBytes(issued.topic).to_0x_hex()  # eth-tester matches topics given as hex text only
    start = index.start_block or 0
    chain_slots = {
        int.from_bytes(HexBytes(log["topics"][1]), "big")
        for log in client.w3.eth.get_logs(
            {"fromBlock": start, "toBlock": at, "address": token.address, "topics": [topic]}
        )
    }
    index_slots = {r.slot for r in index.receivables()}
    for slot in sorted(chain_slots - index_slots):
        diffs.append(Difference("receivable", hex(slot), "present", False, True))
    for slot in sorted(index_slots - chain_slots):
        diffs.append(Difference("receivable", hex(slot), "present", True, False))

    outputs = [o["name"] for o in token.get_function_by_name("receivable").abi["outputs"][0]["components"]]
    block_time = int(client.w3.eth.get_block(at)["timestamp"])
    functions = {str(f.get("name")) for f in token.abi if f.get("type") == "function"}
    has_claimable = "claimable" in functions
    owner_counts: dict[str, int] = {}
    for row in index.receivables():
        if row.slot not in chain_slots:
            continue
        key = hex(row.slot)
        info = dict(zip(outputs, call(token.functions.receivable(row.slot)), strict=True))
        differ("receivable", key, "debtor", row.debtor, info["debtor"])
        differ("receivable", key, "face value", row.face_value, int(info["faceValue"]))
        differ("receivable", key, "maturity", row.maturity, int(info["maturity"]))
        differ("receivable", key, "issued at", row.issued_at, int(info["issuedAt"]))
        differ("receivable", key, "document hash", row.document_hash, "0x" + bytes(info["documentHash"]).hex())
        differ("receivable", key, "state", _comparable(row.state), _comparable(int(info["state"])))
        differ("receivable", key, "fragments created", row.fragments_created, int(info["fragmentsCreated"]))
        for ours, name in (("repaid", "repaid"), ("redeemed_value", "redeemedValue"), ("paid_out", "paidOut")):
            if name in info:
                differ("receivable", key, name, getattr(row, ours), int(info[name]))

        tree = index.tree(row.slot)
        assert tree is not None
        known = {f.sequence: f for f in tree.fragments}
        paid = dict(index.conn.execute("SELECT sequence, paid FROM fragments WHERE slot = ?", (slot_key(row.slot),)))
        live_total = 0
        for sequence in range(1, max(int(info["fragmentsCreated"]), max(known, default=0)) + 1):
            token_id = row.slot << _SEQUENCE_BITS | sequence
            tid = str(token_id)
            ours_f = known.get(sequence)
            try:
                owner, value, _slot, parent_id, frozen = call(token.functions.fragment(token_id))
            except ContractError as exc:
                if type(exc).__name__ != "NonexistentToken":
                    raise
                if ours_f is None or not ours_f.burned:
                    diffs.append(Difference("fragment", tid, "exists", ours_f is not None, False))
                continue
            if ours_f is None:
                diffs.append(Difference("fragment", tid, "exists", False, True))
                continue
            live_total += int(value)
            owner_counts[owner] = owner_counts.get(owner, 0) + 1
            differ("fragment", tid, "burned", ours_f.burned, False)
            differ("fragment", tid, "owner", ours_f.owner, owner)
            differ("fragment", tid, "value", ours_f.value, int(value))
            differ(
                "fragment",
                tid,
                "parent",
                row.slot << _SEQUENCE_BITS | ours_f.parent_sequence if ours_f.parent_sequence else 0,
                int(parent_id),
            )
            differ("fragment", tid, "frozen", ours_f.frozen, bool(frozen))
            if has_claimable:
                # What the index says the holder can pull now, by the contract's rule (0 before maturity).
                ours_claim = rules.claimable(
                    ours_f.value, paid[sequence], row.repaid, row.face_value, row.state, row.maturity, block_time
                )
                differ("fragment", tid, "claimable", ours_claim, int(call(token.functions.claimable(token_id))))
        differ("receivable", key, "live value", row.live_value, live_total)

    # Owner counts (ERC-721 balanceOf) of everyone the index or the chain says holds fragments.
    index_counts: dict[str, int] = dict(
        index.conn.execute("SELECT owner, count(*) FROM fragments WHERE burned = 0 GROUP BY owner").fetchall()
    )
    for owner in sorted(set(index_counts) | set(owner_counts)):
        differ(
            "owner count",
            owner,
            "fragments held",
            index_counts.get(owner, 0),
            int(call(token.functions.balanceOf(owner))),
        )

    membership = client.membership.contract
    for member in index.members():
        differ("member", member.account, "role", member.role, Role(call(membership.functions.roleOf(member.account))))
        active = bool(call(membership.functions.isActive(member.account)))
        differ("member", member.account, "suspended", member.suspended, not active)

    if "creditLine" in functions:
        for debtor, (limit, used) in index.credit_lines().items():
            chain_limit, chain_used = call(token.functions.creditLine(debtor))
            differ("credit line", debtor, "limit", limit, int(chain_limit))
            differ("credit line", debtor, "used", used, int(chain_used))

    cash = client.cash.contract
    balances = index.cash_balances()
    for account, balance in sorted(balances.items()):
        differ("cash", account, "balance", balance, int(call(cash.functions.balanceOf(account))))
    differ("cash", "total", "supply", sum(balances.values()), int(call(cash.functions.totalSupply())))
    return diffs
