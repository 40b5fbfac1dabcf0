"""Events into the projected tables: one handler per (contract, event), applied in chain order.

Events with no handler are stored and otherwise ignored; supporting a new event is one function decorated with
`@handles("Contract", "EventName")`. The projection records which handlers and which table layout made it
(`signature`): an index made by a program with other handlers or tables is rebuilt from its stored events at
the next sync.

Tier: the supplier the receivable was issued to holds tier 1. A fragment that moves to another holder (split
off, or transferred whole) is one tier deeper than its sender's; moving to oneself keeps the tier; a
financier's fragment keeps the tier it was bought at and is marked `financed`.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable

from chain_client.constants import ZERO_ADDRESS
from chain_client.index.decoding import Event
from chain_client.index.schema import PROJECTION, PROJECTION_SCHEMA, slot_key, statements, token_key
from chain_client.membership import Role
from chain_client.receivables import ReceivableState

Handler = Callable[["Projector", Event], None]

# The projection's handlers by (contract, event). A program may add its own (`handles`).
HANDLERS: dict[tuple[str, str], Handler] = {}


def handles(contract: str, event: str) -> Callable[[Handler], Handler]:
    """Register the projection of `event` of `contract` (events without one are stored and skipped)."""

    def register(fn: Handler) -> Handler:
        HANDLERS[(contract, event)] = fn
        return fn

    return register


def handled_events() -> list[tuple[str, str]]:
    return sorted(HANDLERS)


def signature() -> str:
    """The handlers and the table layout that make this program's projection."""
    layout = hashlib.sha256(PROJECTION_SCHEMA.encode()).hexdigest()[:16]
    return ",".join([f"{contract}.{event}" for contract, event in handled_events()] + [layout])


class Projector:
    """Applies events to the projected tables, in chain order, inside the caller's transaction. Handlers write
    through `db`."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.db = conn

    def __call__(self, event: Event) -> None:
        handler = HANDLERS.get((event.contract, event.name))
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


# ---------------------------------------------------------------------------------------------- upkeep


def rebuild(conn: sqlite3.Connection) -> None:
    """Drop the projected tables, create them again and apply every stored event, inside the caller's
    transaction."""
    for table in PROJECTION:
        conn.execute(f"DROP TABLE IF EXISTS {table}")
    for statement in statements(PROJECTION_SCHEMA):
        conn.execute(statement)
    rows = conn.execute(
        """SELECT e.block_number, e.tx_index, e.log_index, e.tx_hash, e.contract, e.event, e.args,
                  coalesce(b.timestamp, 0)
           FROM events e LEFT JOIN blocks b ON b.number = e.block_number
           ORDER BY e.block_number, e.tx_index, e.log_index"""
    ).fetchall()
    apply = Projector(conn)
    for block, tx_index, log_index, tx_hash, contract, name, args, ts in rows:
        apply(Event(contract, name, json.loads(args), block, ts, tx_hash, tx_index, log_index))
    record(conn)


def record(conn: sqlite3.Connection) -> None:
    """Note what the projection holds now, for `damaged` to compare with later."""
    conn.execute("INSERT OR REPLACE INTO meta VALUES ('projection_counts', ?)", (json.dumps(_counts(conn)),))
    conn.execute("INSERT OR REPLACE INTO meta VALUES ('projection', ?)", (signature(),))


def damaged(conn: sqlite3.Connection) -> bool:
    """Rows of the projection went missing, or other handlers or tables made it (a program that knew fewer
    events, or an earlier layout): either way, rebuild it from the stored events."""
    saved = dict(conn.execute("SELECT key, value FROM meta WHERE key IN ('projection_counts', 'projection')"))
    if "projection_counts" in saved and json.loads(saved["projection_counts"]) != _counts(conn):
        return True
    return saved.get("projection") != signature()


def _counts(conn: sqlite3.Connection) -> dict[str, int]:
    return {t: int(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]) for t in ("receivables", "fragments")}


# ---------------------------------------------------------------------------------------------- ReceivableToken


@handles("ReceivableToken", "Transfer")
def _on_fragment_transfer(p: Projector, e: Event) -> None:
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
def _on_transfer_value(p: Projector, e: Event) -> None:
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
def _on_fragments_split(p: Projector, e: Event) -> None:
    slot, first = token_key(int(e.args["firstTokenId"]))
    p.db.execute(
        "UPDATE fragments SET memo = ? WHERE slot = ? AND sequence BETWEEN ? AND ?",
        (e.args["memo"], slot, first, first + int(e.args["count"]) - 1),
    )


@handles("ReceivableToken", "Frozen")
def _on_frozen(p: Projector, e: Event) -> None:
    slot, seq = token_key(int(e.args["tokenId"]))
    p.db.execute("UPDATE fragments SET frozen = 1 WHERE slot = ? AND sequence = ?", (slot, seq))


@handles("ReceivableToken", "Unfrozen")
def _on_unfrozen(p: Projector, e: Event) -> None:
    slot, seq = token_key(int(e.args["tokenId"]))
    p.db.execute("UPDATE fragments SET frozen = 0 WHERE slot = ? AND sequence = ?", (slot, seq))


# --- life cycle


@handles("ReceivableToken", "ReceivableIssued")
def _on_issued(p: Projector, e: Event) -> None:
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
    def _on_state(p: Projector, e: Event) -> None:
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


# --- repayment and settings


@handles("ReceivableToken", "RepaymentReceived")
def _on_repayment(p: Projector, e: Event) -> None:
    p.db.execute(
        "UPDATE receivables SET repaid = ?, updated_block = ? WHERE slot = ?",
        (int(e.args["totalRepaid"]), e.block_number, slot_key(int(e.args["slot"]))),
    )


@handles("ReceivableToken", "FragmentRedeemed")
def _on_redeemed(p: Projector, e: Event) -> None:
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
def _on_credit_line(p: Projector, e: Event) -> None:
    p.db.execute(
        "INSERT OR REPLACE INTO credit_lines (debtor, credit_limit) VALUES (?, ?)",
        (e.args["debtor"], int(e.args["newLimit"])),
    )


def _setting_handler(event: str, name: str) -> None:
    @handles("ReceivableToken", event)
    def _on_setting(p: Projector, e: Event) -> None:
        p.db.execute("INSERT OR REPLACE INTO settings (name, value) VALUES (?, ?)", (name, int(e.args["newSeconds"])))


_setting_handler("MaxTenorChanged", "max_tenor")
_setting_handler("GracePeriodChanged", "grace_period")


# ---------------------------------------------------------------------------------------------- Membership


@handles("Membership", "MemberAdmitted")
def _on_admitted(p: Projector, e: Event) -> None:
    p.db.execute(
        "INSERT OR REPLACE INTO members (account, role, suspended, kyc_hash, updated_block) VALUES (?, ?, 0, ?, ?)",
        (e.args["account"], int(e.args["role"]), e.args["kycHash"], e.block_number),
    )


@handles("Membership", "MemberSuspended")
def _on_suspended(p: Projector, e: Event) -> None:
    p.db.execute(
        "UPDATE members SET suspended = 1, updated_block = ? WHERE account = ?", (e.block_number, e.args["account"])
    )


@handles("Membership", "MemberReinstated")
def _on_reinstated(p: Projector, e: Event) -> None:
    p.db.execute(
        "UPDATE members SET suspended = 0, updated_block = ? WHERE account = ?", (e.block_number, e.args["account"])
    )


# ---------------------------------------------------------------------------------------------- FinancingDesk
# (the value moved through ReceivableToken events already; these record the deal and the withdrawn requests)


@handles("FinancingDesk", "Financed")
def _on_financed(p: Projector, e: Event) -> None:
    a = e.args
    slot, seq = token_key(int(a["financedTokenId"]))
    _, source = token_key(int(a["tokenId"]))
    p.db.execute(
        """INSERT OR REPLACE INTO financings (block_number, tx_index, log_index, tx_hash, request_hash, slot, sequence,
                                              source_sequence, seller, financier, value, price, recourse, block_time)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        (
            e.block_number,
            e.tx_index,
            e.log_index,
            e.tx_hash,
            a["requestHash"],
            slot,
            seq,
            source,
            a["seller"],
            a["financier"],
            int(a["value"]),
            int(a["price"]),
            int(bool(a["recourse"])),
            e.block_time,
        ),
    )
    p.db.execute("UPDATE fragments SET financed = 1 WHERE slot = ? AND sequence = ?", (slot, seq))


@handles("FinancingDesk", "RequestCancelled")
def _on_request_cancelled(p: Projector, e: Event) -> None:
    p.db.execute(
        "INSERT OR REPLACE INTO cancelled_requests (signer, nonce) VALUES (?, ?)",
        (e.args["signer"], str(int(e.args["nonce"]))),
    )


# ---------------------------------------------------------------------------------------------- SettlementToken
# (the cash leg)


@handles("SettlementToken", "Transfer")
def _on_cash_transfer(p: Projector, e: Event) -> None:
    value = int(e.args["value"])
    for account, delta in ((e.args["from"], -value), (e.args["to"], value)):
        if account != ZERO_ADDRESS:
            p.db.execute(
                """INSERT INTO cash_balances (account, balance) VALUES (?, ?)
                   ON CONFLICT (account) DO UPDATE SET balance = balance + excluded.balance""",
                (account, delta),
            )
