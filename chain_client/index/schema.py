"""The index's tables, and how ids are written into them.

Two kinds of table: the event store (`meta`, `blocks`, `events`, `labels`), written as logs are read and never
recomputed, and the projection (`PROJECTION`), which applying the stored events in chain order yields and which
is dropped and rebuilt whenever this program's projection differs from the one that wrote it (see
`projection.signature`). A change to a projected table therefore needs no migration: the next sync rebuilds it.
A change to the event store does: raise `SCHEMA_VERSION`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

from chain_client.ids import MAX_SLOT, sequence_of, slot_of, token_id_of

SCHEMA_VERSION = 1

EVENT_STORE = """
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
CREATE TABLE IF NOT EXISTS labels (account TEXT PRIMARY KEY, label TEXT NOT NULL);
"""

PROJECTION_SCHEMA = """
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
-- A member's fragments of one receivable, and those it split off to others (what `api.policy` lets it see):
-- found without reading the receivable's other fragments.
CREATE INDEX IF NOT EXISTS fragments_by_slot_owner ON fragments (slot, owner);
CREATE INDEX IF NOT EXISTS fragments_by_slot_sender ON fragments (slot, created_from);
-- Each receivable's live fragments (not burned): their count and value, kept by triggers as fragments change,
-- so that a receivable's row does not count its fragments (at 100,000 fragments that took tens of ms).
CREATE TABLE IF NOT EXISTS live_totals (
    slot TEXT PRIMARY KEY, fragments INTEGER NOT NULL, value INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS live_totals_replaced BEFORE INSERT ON fragments BEGIN
    -- INSERT OR REPLACE deletes the row it replaces without firing a delete trigger: take it out here.
    UPDATE live_totals
    SET fragments = fragments - 1,
        value = value - (SELECT value FROM fragments WHERE slot = NEW.slot AND sequence = NEW.sequence)
    WHERE slot = NEW.slot
      AND EXISTS (SELECT 1 FROM fragments WHERE slot = NEW.slot AND sequence = NEW.sequence AND burned = 0);
END;
CREATE TRIGGER IF NOT EXISTS live_totals_inserted AFTER INSERT ON fragments WHEN NEW.burned = 0 BEGIN
    INSERT INTO live_totals (slot, fragments, value) VALUES (NEW.slot, 1, NEW.value)
    ON CONFLICT (slot) DO UPDATE SET fragments = fragments + 1, value = value + excluded.value;
END;
CREATE TRIGGER IF NOT EXISTS live_totals_updated AFTER UPDATE OF value, burned ON fragments BEGIN
    UPDATE live_totals
    SET fragments = fragments + (NEW.burned = 0) - (OLD.burned = 0),
        value = value + iif(NEW.burned = 0, NEW.value, 0) - iif(OLD.burned = 0, OLD.value, 0)
    WHERE slot = NEW.slot;
END;
CREATE TRIGGER IF NOT EXISTS live_totals_deleted AFTER DELETE ON fragments WHEN OLD.burned = 0 BEGIN
    UPDATE live_totals SET fragments = fragments - 1, value = value - OLD.value WHERE slot = OLD.slot;
END;
CREATE TABLE IF NOT EXISTS members (
    account TEXT PRIMARY KEY, role INTEGER NOT NULL, suspended INTEGER NOT NULL, kyc_hash TEXT NOT NULL,
    updated_block INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS credit_lines (debtor TEXT PRIMARY KEY, credit_limit INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS cash_balances (account TEXT PRIMARY KEY, balance INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS financings (  -- one row per deal: a fragment sold on through the desk again is a new row
    block_number INTEGER NOT NULL,
    tx_index INTEGER NOT NULL,
    log_index INTEGER NOT NULL,
    tx_hash TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    slot TEXT NOT NULL,
    sequence INTEGER NOT NULL,          -- the financier's fragment
    source_sequence INTEGER NOT NULL,   -- the fragment it was bought out of (the same one for a whole sale)
    seller TEXT NOT NULL,
    financier TEXT NOT NULL,
    value INTEGER NOT NULL,
    price INTEGER NOT NULL,
    recourse INTEGER NOT NULL,
    block_time INTEGER NOT NULL,
    PRIMARY KEY (block_number, tx_index, log_index)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS financings_by_financier ON financings (financier);
CREATE INDEX IF NOT EXISTS financings_by_request ON financings (request_hash);
CREATE TABLE IF NOT EXISTS cancelled_requests (
    signer TEXT NOT NULL, nonce TEXT NOT NULL, PRIMARY KEY (signer, nonce)  -- nonces are 256-bit: text
) WITHOUT ROWID;
"""

# The projected tables: dropped, created again and refilled from `events` by a rebuild.
PROJECTION = (
    "receivables",
    "fragments",
    "live_totals",
    "members",
    "credit_lines",
    "cash_balances",
    "settings",
    "financings",
    "cancelled_requests",
)


def statements(script: str) -> Iterator[str]:
    """The statements of `script`, one by one (to run inside a transaction, which `executescript` would commit;
    comments may hold semicolons, so SQLite says where a statement ends)."""
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            yield pending
            pending = ""


# ---------------------------------------------------------------------------------------------- ids

# Slots are 224-bit numbers and SQLite integers 64-bit, so a slot is stored as fixed-width hex and a fragment
# is keyed by (slot hex, sequence). Ids are built and taken apart by `chain_client.ids`.


def slot_key(slot: int) -> str:
    if not 0 < slot <= MAX_SLOT:
        raise ValueError(f"not a slot: {slot}")
    return f"{slot:056x}"


def token_key(token_id: int) -> tuple[str, int]:
    """(slot key, sequence) of `token_id`."""
    return slot_key(slot_of(token_id)), sequence_of(token_id)


def token_id_at(slot_hex: str, sequence: int) -> int:
    """The token id of a stored (slot key, sequence)."""
    return token_id_of(int(slot_hex, 16), sequence)
