"""Actions with maker-checker (经办 / 复核): a user prepares `{kind, params}`, a different user approves, the API
executes it once, signed with the member's key; every step goes to the audit trail (`api.audit`).

States: `prepared → executing → executed | failed`, or `prepared → rejected | expired`.

- Who prepares: a user with duty `maker`, `checker` or `admin` (not `viewer`), for a kind the member's
  on-chain role may do (`KINDS`).
- When it waits: the kinds in `CHECKED` (they move value or commit the member) wait for a checker when the
  member has at least one active user with duty `checker`, unless the member's admin set a threshold
  (`PUT /approval-policy`) and the action's amount is below it. Anything else executes at once, in the same
  call. Merging two of one's own fragments and redeeming at maturity commit nobody: they never wait.
- Who approves or rejects: an active user of the same member with duty `checker`, not the one who prepared it.
- Exactly once: approval moves the action `prepared → executing` with one conditional UPDATE inside a
  `BEGIN IMMEDIATE` transaction (SQLite's write lock); of any number of concurrent approvals, across threads or
  processes, exactly one sees `prepared` and executes, the others get 409 `ActionNotPrepared`.
- Expiry: a prepared action expires `ACTION_TTL` (24 h) after it was prepared, on the wall clock (how long it
  has waited; the chain's clock can be moved on a development chain). An expired or rejected action sends
  nothing.
- Crash recovery: the hash of every transaction signed for an action is recorded before it is sent (the
  signer handed to the client records it as it signs). An action left `executing` by a process that died, or
  for longer than `STALE_AFTER` (the node went away after its transaction was signed), is settled (`recover`,
  at start-up as `api.funding` does for fundings, and before each read of the actions): executed if its last
  transaction's receipt succeeded, failed if it reverted or was never sent.
- Idempotency: `POST /actions` takes an `Idempotency-Key`; the same key and body return the same action
  (nothing prepared or sent again), the same key with another body is 409 `IdempotencyKeyReused`.
- Outcomes: a refusal by the API (duty, role, state) is an error response; an executed action's outcome,
  success or the contract's named refusal, is the action's `state` with its `result` or `error`.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from eth_account.signers.local import LocalAccount
from eth_typing import HexStr
from eth_utils.crypto import keccak
from pydantic import BaseModel, ConfigDict, Field
from web3.exceptions import TransactionNotFound

from api import audit
from api.documents import combined_hash
from api.errors import ApiProblem, as_response
from api.fields import MAX_SAFE_INTEGER, MAX_TIME, Address, PositiveYuanIn, Slot, TokenId, YuanIn, yuan_text
from api.schemas import FinancingRequestCreate, FundCreate
from api.store import STALE_AFTER, is_alive, this_process
from api.users import Duty, User
from chain_client.client import ScfClient
from chain_client.constants import ZERO_ADDRESS, ZERO_HASH
from chain_client.exceptions import ContractError
from chain_client.financing import FinancingRequest
from chain_client.membership import Role
from chain_client.tx import TxResult

if TYPE_CHECKING:
    from api.context import ApiContext, Member

ACTION_TTL = 24 * 3600  # seconds a prepared action waits for a checker (wall clock)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS actions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    member TEXT NOT NULL,
    kind TEXT NOT NULL,
    params TEXT NOT NULL,            -- JSON, as the API writes it (ids and amounts as strings)
    amount INTEGER,                  -- fen the action moves or commits, where it has one
    needs_approval INTEGER NOT NULL,
    state TEXT NOT NULL,
    maker TEXT NOT NULL,
    checker TEXT,
    idempotency_key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    decided_at REAL,
    owner TEXT,                      -- the process executing it
    tx_hashes TEXT NOT NULL DEFAULT '[]',  -- every transaction signed for it, recorded before it is sent
    result TEXT,
    error TEXT,
    UNIQUE (member, idempotency_key)
);
CREATE INDEX IF NOT EXISTS actions_by_member ON actions (member, state, seq);
CREATE TABLE IF NOT EXISTS approval_policy (
    member TEXT PRIMARY KEY,
    single_user_below INTEGER        -- fen: an action of a smaller amount executes without a checker
);
"""


class State(StrEnum):
    PREPARED = "prepared"
    EXECUTING = "executing"
    EXECUTED = "executed"
    FAILED = "failed"
    REJECTED = "rejected"
    EXPIRED = "expired"


# Which on-chain role may prepare which kind.
_CORE, _SUPPLIER, _FINANCIER, _OPERATOR = Role.CORE_ENTERPRISE, Role.SUPPLIER, Role.FINANCIER, Role.OPERATOR
KINDS: dict[str, frozenset[Role]] = {
    "issue": frozenset({_CORE}),
    "cancel": frozenset({_CORE}),
    "repay": frozenset({_CORE}),
    "accept": frozenset({_SUPPLIER}),
    "reject": frozenset({_SUPPLIER}),
    "pay_suppliers": frozenset({_SUPPLIER}),
    "transfer": frozenset({_SUPPLIER, _FINANCIER}),
    "merge": frozenset({_SUPPLIER, _FINANCIER}),
    "redeem": frozenset({_SUPPLIER, _FINANCIER}),
    "set_approval_for_all": frozenset({_SUPPLIER, _FINANCIER}),
    "set_exposure_limit": frozenset({_FINANCIER}),
    "admit": frozenset({_OPERATOR}),
    "suspend": frozenset({_OPERATOR}),
    "reinstate": frozenset({_OPERATOR}),
    "set_credit_line": frozenset({_OPERATOR}),
    "freeze": frozenset({_OPERATOR}),
    "unfreeze": frozenset({_OPERATOR}),
    "set_max_tenor": frozenset({_OPERATOR}),
    "set_grace_period": frozenset({_OPERATOR}),
    "mint": frozenset({_OPERATOR}),
    "offer": frozenset({_SUPPLIER, _FINANCIER}),
    "fund": frozenset({_FINANCIER}),
    "claim_recourse": frozenset({_FINANCIER}),
    "settle_recourse": frozenset({_SUPPLIER, _FINANCIER}),
    "redeem_recourse": frozenset({_SUPPLIER, _FINANCIER}),
    "mark_overdue": frozenset({_CORE, _SUPPLIER, _FINANCIER, _OPERATOR}),
}
# Kinds that wait for a checker (when the member has one): they move value or commit the member.
CHECKED = frozenset(KINDS) - {"merge", "redeem", "redeem_recourse", "mark_overdue"}
PREPARERS = (Duty.ADMIN, Duty.MAKER, Duty.CHECKER)  # a checker may prepare; another checker approves


@dataclass(frozen=True)
class Action:
    id: str
    member: str
    kind: str
    params: dict[str, Any]
    amount: int | None
    needs_approval: bool
    state: State
    maker: str
    checker: str | None
    created_at: float
    expires_at: float
    decided_at: float | None
    tx_hashes: list[str]
    result: dict[str, Any] | None
    error: dict[str, Any] | None

    @property
    def tx_hash(self) -> str | None:
        return self.tx_hashes[-1] if self.tx_hashes else None


_COLUMNS = """id, member, kind, params, amount, needs_approval, state, maker, checker, created_at, expires_at,
              decided_at, tx_hashes, result, error"""


def _action(r: tuple[Any, ...]) -> Action:
    aid, member, kind, params, amount, needs, state, maker, checker, created, expires, decided, hashes, res, err = r
    return Action(
        aid,
        member,
        kind,
        json.loads(params),
        amount,
        bool(needs),
        State(state),
        maker,
        checker,
        created,
        expires,
        decided,
        json.loads(hashes),
        None if res is None else json.loads(res),
        None if err is None else json.loads(err),
    )


class Actions:
    """The actions table, the approval policy and the audit trail, in the API's SQLite file."""

    def __init__(self, path: str | Path, *, owner: str | None = None, clock: Callable[[], float] = time.time) -> None:
        self.path = str(path)
        self.owner = owner or this_process()  # tests name another owner to stand for a dead process
        self.clock = clock  # tests move it to expire actions
        with self._connect() as conn:
            conn.executescript(_SCHEMA + audit.SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            yield conn
        finally:
            conn.close()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        with self._connect() as conn:
            yield conn

    # ------------------------------------------------------------------ policy

    def threshold(self, member: str) -> int | None:
        with self._connect() as conn:
            row = conn.execute("SELECT single_user_below FROM approval_policy WHERE member = ?", (member,)).fetchone()
        return None if row is None or row[0] is None else int(row[0])

    def set_threshold(self, member: str, below: int | None) -> None:
        with self._connect() as conn:
            conn.execute(
                "INSERT INTO approval_policy (member, single_user_below) VALUES (?, ?) "
                "ON CONFLICT (member) DO UPDATE SET single_user_below = excluded.single_user_below",
                (member, below),
            )

    # ------------------------------------------------------------------ reads

    def get(self, action_id: str) -> Action | None:
        with self._connect() as conn:
            row = conn.execute(f"SELECT {_COLUMNS} FROM actions WHERE id = ?", (action_id,)).fetchone()
        return None if row is None else _action(row)

    def page(self, member: str | None, state: State | None, offset: int, limit: int) -> tuple[list[Action], int]:
        where, params = [], []
        if member is not None:
            where.append("member = ?")
            params.append(member)
        if state is not None:
            where.append("state = ?")
            params.append(state.value)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        with self._connect() as conn:
            count = int(conn.execute(f"SELECT count(*) FROM actions {clause}", params).fetchone()[0])
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM actions {clause} ORDER BY seq LIMIT ? OFFSET ?", [*params, limit, offset]
            ).fetchall()
        return [_action(r) for r in rows], count

    # ------------------------------------------------------------------ transitions

    def expire_due(self) -> int:
        """Move every prepared action past its expiry to `expired` (audited). Nothing is sent for them."""
        now = self.clock()
        with self.write() as conn:
            rows = conn.execute(
                "SELECT id, member, kind FROM actions WHERE state = ? AND expires_at < ?", (State.PREPARED.value, now)
            ).fetchall()
            for aid, member, kind in rows:
                conn.execute(
                    "UPDATE actions SET state = ?, decided_at = ? WHERE id = ?", (State.EXPIRED.value, now, aid)
                )
                detail = {"detail": f"not approved within {ACTION_TTL} s of preparation"}
                audit.append(
                    conn, member=member, user="system", event=audit.Event.EXPIRED, action=aid, kind=kind, detail=detail
                )
        return len(rows)

    def prepare(
        self,
        user: User,
        kind: str,
        params: dict[str, Any],
        amount: int | None,
        needs_approval: bool,
        key: str,
        fingerprint: str,
    ) -> tuple[Action, bool]:
        """(action, created). A known key with the same body returns its action (created False)."""
        now = self.clock()
        member = user.member.address
        with self.write() as conn:
            found = conn.execute(
                f"SELECT {_COLUMNS}, fingerprint FROM actions WHERE member = ? AND idempotency_key = ?", (member, key)
            ).fetchone()
            if found is not None:
                if found[-1] != fingerprint:
                    raise ApiProblem(
                        409, "IdempotencyKeyReused", {"key": key, "detail": "this key was used with another body"}
                    )
                return _action(found[:-1]), False
            aid = "a_" + secrets.token_hex(8)
            state = State.PREPARED if needs_approval else State.EXECUTING
            conn.execute(
                """INSERT INTO actions (id, member, kind, params, amount, needs_approval, state, maker, idempotency_key,
                                        fingerprint, created_at, expires_at, decided_at, owner)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (
                    aid,
                    member,
                    kind,
                    json.dumps(params),
                    amount,
                    int(needs_approval),
                    state.value,
                    user.id,
                    key,
                    fingerprint,
                    now,
                    now + ACTION_TTL,
                    None if needs_approval else now,
                    None if needs_approval else self.owner,
                ),
            )
            detail = {"params": params, "amount": amount, "needs_approval": needs_approval}
            audit.append(
                conn, member=member, user=user.id, event=audit.Event.PREPARED, action=aid, kind=kind, detail=detail
            )
        created = self.get(aid)
        assert created is not None
        return created, True

    def claim(self, action: Action, checker: User) -> Action:
        """prepared → executing for `checker`, exactly once; ApiProblem 409 for any other state (or expiry)."""
        now = self.clock()
        with self.write() as conn:
            row = conn.execute("SELECT state, expires_at FROM actions WHERE id = ?", (action.id,)).fetchone()
            state, expires_at = State(row[0]), float(row[1])
            if state is State.PREPARED and expires_at < now:
                conn.execute(
                    "UPDATE actions SET state = ?, decided_at = ? WHERE id = ?", (State.EXPIRED.value, now, action.id)
                )
                detail = {"detail": f"not approved within {ACTION_TTL} s of preparation"}
                audit.append(
                    conn,
                    member=action.member,
                    user="system",
                    event=audit.Event.EXPIRED,
                    action=action.id,
                    kind=action.kind,
                    detail=detail,
                )
                state = State.EXPIRED
            else:
                moved = conn.execute(
                    "UPDATE actions SET state = ?, checker = ?, decided_at = ?, owner = ? WHERE id = ? AND state = ?",
                    (State.EXECUTING.value, checker.id, now, self.owner, action.id, State.PREPARED.value),
                ).rowcount
                if moved == 1:
                    audit.append(
                        conn,
                        member=action.member,
                        user=checker.id,
                        event=audit.Event.APPROVED,
                        action=action.id,
                        kind=action.kind,
                        detail={},
                    )
                    claimed = conn.execute(f"SELECT {_COLUMNS} FROM actions WHERE id = ?", (action.id,)).fetchone()
                    return _action(claimed)
        if state is State.EXPIRED:
            raise ApiProblem(409, "ActionExpired", {"id": action.id, "expires_at": int(expires_at)})
        raise ApiProblem(409, "ActionNotPrepared", {"id": action.id, "state": state.value})

    def reject(self, action: Action, checker: User, reason: str | None) -> Action:
        now = self.clock()
        with self.write() as conn:
            moved = conn.execute(
                "UPDATE actions SET state = ?, checker = ?, decided_at = ? "
                "WHERE id = ? AND state = ? AND expires_at >= ?",
                (State.REJECTED.value, checker.id, now, action.id, State.PREPARED.value, now),
            ).rowcount
            if moved == 1:
                audit.append(
                    conn,
                    member=action.member,
                    user=checker.id,
                    event=audit.Event.REJECTED,
                    action=action.id,
                    kind=action.kind,
                    detail={"reason": reason},
                )
        if moved != 1:
            self.expire_due()
            current = self.get(action.id)
            assert current is not None
            raise ApiProblem(409, "ActionNotPrepared", {"id": action.id, "state": current.state.value})
        done = self.get(action.id)
        assert done is not None
        return done

    def record_tx(self, action_id: str, tx_hash: str) -> None:
        """Called as each transaction is signed, before it is sent."""
        with self.write() as conn:
            (hashes,) = conn.execute("SELECT tx_hashes FROM actions WHERE id = ?", (action_id,)).fetchone()
            conn.execute(
                "UPDATE actions SET tx_hashes = ? WHERE id = ?", (json.dumps([*json.loads(hashes), tx_hash]), action_id)
            )

    def finish(
        self,
        action: Action,
        user: str,
        *,
        result: dict[str, Any] | None = None,
        error: dict[str, Any] | None = None,
        sent: bool = True,
    ) -> Action:
        """executing → executed (with `result`) or failed (with `error`), audited with the last tx hash (none when
        `sent` is False: the node refused the transaction at submission, so no such transaction exists)."""
        state = State.FAILED if error is not None else State.EXECUTED
        with self.write() as conn:
            (hashes,) = conn.execute("SELECT tx_hashes FROM actions WHERE id = ?", (action.id,)).fetchone()
            tx_hashes = json.loads(hashes)
            moved = conn.execute(
                "UPDATE actions SET state = ?, result = ?, error = ?, owner = NULL WHERE id = ? AND state = ?",
                (
                    state.value,
                    None if result is None else json.dumps(result),
                    None if error is None else json.dumps(error),
                    action.id,
                    State.EXECUTING.value,
                ),
            ).rowcount
            if moved == 1:
                event = audit.Event.FAILED if error is not None else audit.Event.EXECUTED
                audit.append(
                    conn,
                    member=action.member,
                    user=user,
                    event=event,
                    action=action.id,
                    kind=action.kind,
                    detail={"result": result} if error is None else {"refusal": error},
                    tx_hash=tx_hashes[-1] if tx_hashes and sent else None,
                )
        done = self.get(action.id)
        assert done is not None
        return done

    def stranded(self, older_than: float) -> list[Action]:
        """Actions left executing by a process that died, or for longer than `older_than` seconds."""
        with self._connect() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS}, owner FROM actions WHERE state = ?", (State.EXECUTING.value,)
            ).fetchall()
        cutoff = time.time() - older_than
        out = []
        for r in rows:
            action = _action(r[:-1])
            if not is_alive(r[-1], self.owner) or (action.decided_at or 0) < cutoff:
                out.append(action)
        return out


# ---------------------------------------------------------------------------------------------- executing


class RecordingSigner(LocalAccount):
    """The member's key, recording each signed transaction's hash (`record`) before the client sends it."""

    def __init__(self, account: LocalAccount, record: Callable[[str], None]) -> None:
        super().__init__(account._key_obj, account._publicapi)
        self._record = record

    def sign_transaction(self, transaction_dict: Any, blobs: Any = None) -> Any:
        signed = super().sign_transaction(transaction_dict, blobs)
        self._record(signed.hash.to_0x_hex())
        return signed


def fingerprint(kind: str, params: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps({"kind": kind, "params": params}, sort_keys=True).encode()).hexdigest()


Executor = Callable[[ScfClient, LocalAccount, Any], dict[str, Any]]


def execute(context: ApiContext, action: Action, by: User, run: Callable[[LocalAccount], dict[str, Any]]) -> Action:
    """Run a claimed action (state executing) once with the member's key, and record its outcome."""
    store = context.actions
    member = by.member
    try:
        signer = RecordingSigner(member.signer(), lambda tx_hash: store.record_tx(action.id, tx_hash))
        with context.member_lock(member.address):
            result = run(signer)
    except (ContractError, ApiProblem) as refusal:
        _, body = as_response(refusal)
        current = store.get(action.id)
        mined = current is not None and current.tx_hash is not None and _mined(context, current.tx_hash)
        return store.finish(action, by.id, error=body, sent=mined)
    except BaseException:
        # The node unreachable, or this process stopping. With nothing signed, nothing can have been sent: the
        # action failed. With a transaction signed it may be on chain: `recover` settles it from its receipt.
        current = store.get(action.id)
        if current is not None and not current.tx_hashes:
            store.finish(action, by.id, error={"error": "ChainUnavailable", "fields": {"detail": "nothing was sent"}})
        raise
    tx_hash = store.get(action.id)
    result = {**result, "tx_hash": tx_hash.tx_hash if tx_hash is not None else None}
    return store.finish(action, by.id, result=result)


def recover(context: ApiContext, *, older_than: float = STALE_AFTER) -> int:
    """Settle actions a dead process left executing, from the receipt of the last transaction each recorded:
    executed if it succeeded, failed if it reverted or was never sent. Returns how many were settled."""
    w3 = context.scf.w3
    settled = 0
    for action in context.actions.stranded(older_than):
        tx_hash = action.tx_hash
        if tx_hash is None:
            context.actions.finish(action, "recovery", error=_not_sent())
            settled += 1
            continue
        try:
            receipt = w3.eth.get_transaction_receipt(HexStr(tx_hash))
        except TransactionNotFound:
            try:
                w3.eth.get_transaction(HexStr(tx_hash))
                continue  # sent and still pending: a later start settles it
            except TransactionNotFound:
                context.actions.finish(action, "recovery", error=_not_sent())
                settled += 1
                continue
        if receipt["status"] == 1:
            context.actions.finish(action, "recovery", result={"tx_hash": tx_hash, "recovered": True})
        else:
            error = {"error": "TransactionReverted", "fields": {"tx_hash": tx_hash}}
            context.actions.finish(action, "recovery", error=error)
        settled += 1
    return settled


def _mined(context: ApiContext, tx_hash: str) -> bool:
    try:
        context.scf.w3.eth.get_transaction_receipt(HexStr(tx_hash))
    except TransactionNotFound:
        return False
    return True


def _not_sent() -> dict[str, Any]:
    return {"error": "NotSent", "fields": {"detail": "the process stopped before its transaction reached the chain"}}


def may_prepare(user: User, kind: str) -> None:
    if user.duty not in PREPARERS:
        raise ApiProblem(403, "DutyNotAllowed", {"duty": user.duty.value, "allowed": [d.value for d in PREPARERS]})
    roles = KINDS[kind]
    if user.member.role not in roles:
        allowed = sorted(r.name.lower() for r in roles)
        raise ApiProblem(403, "WrongRole", {"role": user.member.role.name.lower(), "allowed": allowed, "kind": kind})


def needs_approval(context: ApiContext, member: Member, kind: str, amount: int | None) -> bool:
    if kind not in CHECKED or not context.users.has_checker(member.address):
        return False
    below = context.actions.threshold(member.address)
    return not (below is not None and amount is not None and amount < below)


def refuse_if_checked(context: ApiContext, member: Member, kind: str, amount: int) -> None:
    """The endpoints that move value on their own (`POST /financing-requests/{id}/fund`) are for members whose
    actions need no checker: for the others one user alone must not move the money (403 `ApprovalRequired`)."""
    if needs_approval(context, member, kind, amount):
        detail = "prepare it with POST /actions; another user with the checker duty approves it"
        raise ApiProblem(403, "ApprovalRequired", {"kind": kind, "amount": yuan_text(amount), "detail": detail})


# ---------------------------------------------------------------------------------------------- kinds
# Each kind's parameters (what `POST /actions` takes as `params`), what it moves or commits (the amount the
# threshold is compared with) and how it runs: one method of the client, as `ScfClient` names it.

BYTES32_PATTERN = r"^0x[0-9a-fA-F]{64}$"
Bytes32 = Annotated[str, Field(pattern=BYTES32_PATTERN, min_length=66, max_length=66, examples=["0x" + "ab" * 32])]
Reason = Annotated[
    str, Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$", examples=["court order 2026-118"])
]
MAX_UINT32 = 2**32 - 1
# The contracts keep the grace period and the longest tenor in uint32 seconds (136 years): larger is refused
# here, by name, rather than reaching the ABI encoder.
Seconds = Annotated[int, Field(ge=0, le=MAX_UINT32)]


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid")


Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$", min_length=64, max_length=64, examples=["ab" * 32])]
Documents = Annotated[
    list[Sha256] | None,
    Field(
        default=None,
        min_length=1,
        max_length=20,
        description="the sha256 ids of documents uploaded with POST /documents: their combined hash goes on chain "
        "and they are linked to the receivable or payment",
    ),
]


def _one_of(hash_value: str | None, documents: list[str] | None, name: str, required: bool) -> None:
    # Checked after the caller's duty and role (`choose`), not by the schema: JSON Schema cannot say "one of
    # these two nullable fields", and a request the schema accepts must not be a 422 for a caller who may
    # not prepare the kind at all.
    if hash_value is not None and documents is not None:
        raise ApiProblem(422, "ValidationError", {f"params.{name}": f"give {name} or documents, not both"})
    if required and hash_value is None and documents is None:
        raise ApiProblem(422, "ValidationError", {f"params.{name}": f"give {name} or documents"})


class IssueParams(_Params):
    supplier: Address
    face_value: PositiveYuanIn
    maturity: Annotated[int, Field(ge=1, le=MAX_TIME, description="unix seconds", examples=[1798761600])]
    document_hash: Bytes32 | None = Field(
        default=None, description="the combined hash of the trade documents (bytes32, 0x-hex); or `documents`"
    )
    documents: Documents = None

    def choose(self) -> None:
        _one_of(self.document_hash, self.documents, "document_hash", required=True)

    def on_chain_hash(self) -> bytes:
        return combined_hash(self.documents) if self.documents is not None else _b32(self.document_hash)


class SlotParams(_Params):
    slot: Slot


class RepayParams(_Params):
    slot: Slot
    amount: PositiveYuanIn


class TokenParams(_Params):
    token_id: TokenId


class Payment(_Params):
    to: Address
    value: PositiveYuanIn


class PaySuppliersParams(_Params):
    token_id: TokenId
    payments: list[Payment] = Field(min_length=1, max_length=50)
    memo: Bytes32 | None = Field(
        default=None, description="bytes32 on chain: the hash of this payment's documents; or `documents`"
    )
    documents: Documents = None

    def choose(self) -> None:
        _one_of(self.memo, self.documents, "memo", required=False)

    def on_chain_memo(self) -> bytes:
        return combined_hash(self.documents) if self.documents is not None else _b32(self.memo)


class TransferParams(_Params):
    token_id: TokenId
    to: Address


class MergeParams(_Params):
    from_token_id: TokenId
    to_token_id: TokenId
    value: PositiveYuanIn


class AdmitParams(_Params):
    account: Address
    role: Literal["core_enterprise", "supplier", "financier", "auditor"]
    kyc_hash: Bytes32 | None = None


class AccountParams(_Params):
    account: Address


class CreditLineParams(_Params):
    debtor: Address
    limit: YuanIn


class FreezeParams(_Params):
    token_id: TokenId
    reason: Reason


class TenorParams(_Params):
    seconds: Annotated[int, Field(ge=1, le=MAX_UINT32)]


class GraceParams(_Params):
    seconds: Seconds


class MintParams(_Params):
    to: Address
    amount: PositiveYuanIn


class ExposureLimitParams(_Params):
    debtor: Address
    limit: YuanIn


class DeskApprovalParams(_Params):
    approved: bool = Field(
        description="true: the FinancingDesk may move the member's fragments when a financing it signed is funded; "
        "false: withdraw that. The desk is the only operator the API approves.",
        examples=[True],
    )


class OfferParams(_Params):
    token_id: TokenId
    value: PositiveYuanIn = Field(description="the value offered, yuan: the whole fragment or a part of it")
    price: PositiveYuanIn = Field(description="the cash asked for it now, yuan (at most `value`)")
    financier: Address | None = Field(None, description="the only financier that may fund it; null: any")
    recourse: bool = False
    deadline: Annotated[int, Field(ge=1, le=MAX_TIME, description="unix seconds", examples=[1798761600])]


class FundParams(_Params):
    request_id: Annotated[int, Field(ge=1, le=MAX_SAFE_INTEGER, description="a request of GET /financing-requests")]
    price: PositiveYuanIn | None = Field(
        None, description="the price the checker approves; funding is refused if the request asks another"
    )


class FinancedTokenParams(_Params):
    """The fragment a financier bought with recourse (a `token_id` of GET /recourse)."""

    financed_token_id: TokenId


def _b32(text: str | None) -> bytes:
    return ZERO_HASH if text is None else bytes.fromhex(text[2:])


def _tx(done: TxResult) -> dict[str, Any]:
    return {"block_number": done.block_number}


def _issue(scf: ScfClient, who: LocalAccount, p: IssueParams) -> dict[str, Any]:
    done = scf.receivables.issue(who, p.supplier, p.face_value, p.maturity, p.on_chain_hash())
    return {**_tx(done), "slot": str(done.slot), "token_id": str(done.token_id)}


def _repay(scf: ScfClient, who: LocalAccount, p: RepayParams) -> dict[str, Any]:
    # The contract pulls the repayment by allowance: top it up to what this repayment needs.
    if scf.cash.allowance(who.address, scf.receivables.address) < p.amount:
        scf.cash.approve(who, scf.receivables.address, p.amount)
    return _tx(scf.receivables.repay(who, p.slot, p.amount))


def _pay(scf: ScfClient, who: LocalAccount, p: PaySuppliersParams) -> dict[str, Any]:
    done = scf.receivables.split(who, p.token_id, [(x.to, x.value) for x in p.payments], p.on_chain_memo())
    return {**_tx(done), "new_token_ids": [str(t) for t in done.new_token_ids]}


def _redeem(scf: ScfClient, who: LocalAccount, p: TokenParams) -> dict[str, Any]:
    done = scf.receivables.redeem(who, p.token_id)
    return {**_tx(done), "paid": yuan_text(done.paid), "burned": [str(t) for t in done.burned]}


def _claim_recourse(scf: ScfClient, who: LocalAccount, p: FinancedTokenParams) -> dict[str, Any]:
    done = scf.financing.claim_recourse(who, p.financed_token_id)
    return {**_tx(done), "claimed": yuan_text(scf.financing.financing(p.financed_token_id).recourse_claim)}


def _settle_recourse(scf: ScfClient, who: LocalAccount, p: FinancedTokenParams) -> dict[str, Any]:
    # The desk pulls the buy-back price from the seller's cash by allowance: top it up to the claim.
    claim = scf.financing.financing(p.financed_token_id).recourse_claim
    if scf.cash.allowance(who.address, scf.financing.address) < claim:
        scf.cash.approve(who, scf.financing.address, claim)
    return _tx(scf.financing.settle_recourse(who, p.financed_token_id))


def _redeem_recourse(scf: ScfClient, who: LocalAccount, p: FinancedTokenParams) -> dict[str, Any]:
    done = scf.financing.redeem_recourse(who, p.financed_token_id)
    return {**_tx(done), "to_seller": yuan_text(done.to_seller), "to_financier": yuan_text(done.to_financier)}


def _offer(context: ApiContext, member: Member, action: Action, who: LocalAccount, p: OfferParams) -> dict[str, Any]:
    """Sign the member's EIP-712 financing request with its key and put it on the market, as
    `POST /financing-requests` does with a request the member signed itself."""
    from api.financing import submit  # api.financing imports api.context, which imports this module

    # The nonce is the action's: one action, one request; the desk refuses a second use of it.
    nonce = int.from_bytes(hashlib.sha256(f"action:{action.id}".encode()).digest()[:16], "big")
    request = FinancingRequest(p.token_id, p.value, p.price, p.financier or ZERO_ADDRESS, p.recourse, nonce, p.deadline)
    signature = context.scf.financing.sign(who, request)
    body = FinancingRequestCreate.model_validate(
        {**p.model_dump(mode="json"), "nonce": str(nonce), "signature": "0x" + signature.hex()}
    )
    created = submit(context, member, body)
    return {"request_id": created.id, "request_hash": created.request_hash}


def _fund(context: ApiContext, member: Member, action: Action, who: LocalAccount, p: FundParams) -> dict[str, Any]:
    """Fund a request through the lender endpoint's own path (claimed once, idempotent under the action's id)."""
    from api.funding import fund  # api.funding imports api.context, which imports this module

    body = FundCreate.model_validate({"price": None if p.price is None else yuan_text(p.price)})
    stored, _ = fund(context, member, p.request_id, f"action:{action.id}", body, who)
    if stored.status_code >= 400:
        raise ApiProblem(stored.status_code, stored.body["error"], stored.body.get("fields", {}))
    funding = stored.body["funding"]
    return {"request_id": p.request_id, "financed_token_id": funding["financed_token_id"]}


@dataclass(frozen=True)
class Kind:
    params: type[_Params]
    run: Callable[[ScfClient, LocalAccount, Any], dict[str, Any]] | None
    amount: Callable[[ScfClient, Any], int | None] = lambda scf, p: None
    # A kind that acts on the API's own market (a stored request) runs with the API's context instead.
    run_in_api: Callable[[ApiContext, Member, Action, LocalAccount, Any], dict[str, Any]] | None = None

    def runner(
        self, context: ApiContext, member: Member, action: Action, params: Any
    ) -> Callable[[LocalAccount], dict[str, Any]]:
        """The action's run, given the member's (recording) signer."""
        if self.run_in_api is not None:
            in_api = self.run_in_api
            return lambda signer: in_api(context, member, action, signer, params)
        assert self.run is not None
        run = self.run
        return lambda signer: run(context.scf, signer, params)


KIND_SPECS: dict[str, Kind] = {
    "issue": Kind(IssueParams, _issue, lambda scf, p: p.face_value),
    "cancel": Kind(
        SlotParams,
        lambda scf, who, p: _tx(scf.receivables.cancel(who, p.slot)),
        lambda scf, p: scf.receivables.receivable(p.slot).face_value,
    ),
    "repay": Kind(RepayParams, _repay, lambda scf, p: p.amount),
    "accept": Kind(
        TokenParams,
        lambda scf, who, p: _tx(scf.receivables.accept(who, p.token_id)),
        lambda scf, p: scf.receivables.balance_of(p.token_id),
    ),
    "reject": Kind(
        TokenParams,
        lambda scf, who, p: _tx(scf.receivables.reject(who, p.token_id)),
        lambda scf, p: scf.receivables.balance_of(p.token_id),
    ),
    "pay_suppliers": Kind(PaySuppliersParams, _pay, lambda scf, p: sum(x.value for x in p.payments)),
    "transfer": Kind(
        TransferParams,
        lambda scf, who, p: _tx(scf.receivables.transfer(who, p.to, p.token_id)),
        lambda scf, p: scf.receivables.balance_of(p.token_id),
    ),
    "merge": Kind(
        MergeParams, lambda scf, who, p: _tx(scf.receivables.merge(who, p.from_token_id, p.to_token_id, p.value))
    ),
    "redeem": Kind(TokenParams, _redeem),
    "admit": Kind(
        AdmitParams,
        lambda scf, who, p: _tx(scf.membership.admit(who, p.account, Role[p.role.upper()], _b32(p.kyc_hash))),
    ),
    "suspend": Kind(AccountParams, lambda scf, who, p: _tx(scf.membership.suspend(who, p.account))),
    "reinstate": Kind(AccountParams, lambda scf, who, p: _tx(scf.membership.reinstate(who, p.account))),
    "set_credit_line": Kind(
        CreditLineParams,
        lambda scf, who, p: _tx(scf.receivables.set_credit_line(who, p.debtor, p.limit)),
        lambda scf, p: p.limit,
    ),
    # On chain a freeze carries the keccak of its reason; the reason's text is in the audit trail.
    "freeze": Kind(
        FreezeParams, lambda scf, who, p: _tx(scf.receivables.freeze(who, p.token_id, keccak(text=p.reason)))
    ),
    "unfreeze": Kind(FreezeParams, lambda scf, who, p: _tx(scf.receivables.unfreeze(who, p.token_id))),
    "set_max_tenor": Kind(TenorParams, lambda scf, who, p: _tx(scf.receivables.set_max_tenor(who, p.seconds))),
    "set_grace_period": Kind(GraceParams, lambda scf, who, p: _tx(scf.receivables.set_grace_period(who, p.seconds))),
    # Cash in (a deposit at the settlement bank): SettlementToken.mint, operator only.
    "mint": Kind(MintParams, lambda scf, who, p: _tx(scf.cash.mint(who, p.to, p.amount)), lambda scf, p: p.amount),
    # A lender's limit on what it funds against one debtor (FinancingDesk.setExposureLimit).
    "set_exposure_limit": Kind(
        ExposureLimitParams,
        lambda scf, who, p: _tx(scf.financing.set_exposure_limit(who, p.debtor, p.limit)),
        lambda scf, p: p.limit,
    ),
    # A holder lets the desk move its fragments, as a funding of its own signed request needs
    # (ReceivableToken.setApprovalForAll with the desk as operator; no other operator is offered).
    "set_approval_for_all": Kind(
        DeskApprovalParams,
        lambda scf, who, p: _tx(scf.receivables.set_approval_for_all(who, scf.financing.address, p.approved)),
    ),
    # A holder offers a fragment for financing: the API signs the EIP-712 request with the member's key.
    "offer": Kind(OfferParams, None, lambda scf, p: p.value, run_in_api=_offer),
    # A lender funds a request: cash to the holder, the value to the lender, in one transaction.
    "fund": Kind(FundParams, None, lambda scf, p: p.price, run_in_api=_fund),
    # Recourse: the financier claims on the seller of an overdue fragment it bought with recourse, the seller
    # buys it back (cash to the financier), and later repayments of the fragment are shared between them.
    "claim_recourse": Kind(
        FinancedTokenParams, _claim_recourse, lambda scf, p: scf.financing.financing(p.financed_token_id).value
    ),
    "settle_recourse": Kind(
        FinancedTokenParams,
        _settle_recourse,
        lambda scf, p: scf.financing.financing(p.financed_token_id).recourse_claim,
    ),
    "redeem_recourse": Kind(FinancedTokenParams, _redeem_recourse),
    # Anyone may record that a receivable is unpaid past maturity and its grace period (markOverdue): it moves
    # nothing, and a recourse claim needs it.
    "mark_overdue": Kind(SlotParams, lambda scf, who, p: _tx(scf.receivables.mark_overdue(who, p.slot))),
}
assert set(KIND_SPECS) == set(KINDS)
