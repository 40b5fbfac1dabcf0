"""The audit trail (`api.audit`): read it, and verify its hash chain."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from api import audit, policy
from api.deps import ContextDep, CurrentUser
from api.fields import MAX_OFFSET
from api.routes.actions import ACTION_ID_PATTERN
from api.routes.problems import AUTH
from chain_client.membership import Role

router = APIRouter(prefix="/audit", tags=["audit"], responses=AUTH)

_HASH = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


_ENTRY_EXAMPLE: JsonDict = {
    "seq": 7,
    "at": 1764591000,
    "member": "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    "user": "u_8e7d6c5b4a392817",
    "event": "executed",
    "action": "a_0c1d2e3f40516273",
    "kind": "issue",
    "detail": {"result": {"slot": "4294967297"}},
    "tx_hash": "0x" + "ab" * 32,
    "prev": _HASH,
    "hash": _HASH,
}


class AuditEntryPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_ENTRY_EXAMPLE]})

    seq: int
    at: int = Field(description="unix seconds, wall clock")
    member: str
    user: str = Field(description='the user\'s id ("admin": the configured key; "system": expiry; "recovery")')
    event: audit.Event
    action: str
    kind: str
    detail: Any = Field(description="the parameters (prepared), the result (executed) or the refusal (failed)")
    tx_hash: str | None
    prev: str = Field(description="sha256 of the previous entry's canonical JSON (64 zeros for the first)")
    hash: str = Field(description="sha256 of this entry's canonical JSON without `hash`")


class AuditPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"data": [_ENTRY_EXAMPLE], "count": 1}]})

    data: list[AuditEntryPublic]
    count: int


class AuditVerificationPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "ok": False,
                    "entries": 6,
                    "last_hash": _HASH,
                    "first_broken": 7,
                    "reason": "prev is not the previous entry's hash",
                }
            ]
        }
    )

    ok: bool
    entries: int = Field(description="entries verified before the first broken one (all of them when ok)")
    last_hash: str = Field(
        description="sha256 of the last verified entry's canonical JSON: note it to detect a cut tail"
    )
    first_broken: int | None = Field(description="the seq of the first entry that does not fit")
    reason: str | None


def _sees_all(role: Role) -> bool:
    return role in (Role.OPERATOR, Role.AUDITOR)


@router.get("", summary="Read the audit trail")
def read_audit(
    context: ContextDep,
    user: CurrentUser,
    action: Annotated[str | None, Query(pattern=ACTION_ID_PATTERN, max_length=18)] = None,
    skip: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> AuditPublic:
    """The audit trail, oldest first: every entry for the operator and auditors, the caller's member's own
    entries for everyone else."""
    member = None if _sees_all(user.member.role) else user.member.address
    context.actions.expire_due()  # an action past its expiry is in the trail as expired before it is read
    with context.actions.reading() as conn:
        data, count = audit.page(conn, member=member, action=action, offset=skip, limit=limit)
    return AuditPublic(data=[AuditEntryPublic.model_validate(e, from_attributes=True) for e in data], count=count)


@router.get("/verify", summary="Verify the audit trail's hash chain")
def verify_audit(context: ContextDep, user: CurrentUser) -> AuditVerificationPublic:
    """Recompute the whole hash chain (operator and auditors): `ok`, or the first entry that does not fit and
    why (its content changed, the chain is cut before it, or entries before it are missing)."""
    policy.require_sees_all(user.member)
    with context.actions.reading() as conn:
        found = audit.verify(conn)
    return AuditVerificationPublic(
        ok=found.first_broken is None,
        entries=found.entries,
        last_hash=found.last_hash,
        first_broken=found.first_broken,
        reason=found.reason,
    )
