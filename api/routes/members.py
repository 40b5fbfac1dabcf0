"""GET /me: who this API key speaks for (member, role, user, duty), and its cash; GET /credit-line: a core
enterprise's credit line."""

from __future__ import annotations

from typing import Annotated

from eth_utils.address import to_checksum_address
from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from api import policy
from api.deps import ClientDep, CurrentMember, CurrentUser
from api.errors import ApiProblem
from api.fields import Address, Yuan
from api.routes.problems import AUTH, NOT_FOUND
from api.schemas import MemberPublic

router = APIRouter(tags=["members"], responses=AUTH)


@router.get("/me")
def me(scf: ClientDep, user: CurrentUser) -> MemberPublic:
    """Who the key speaks for: its member (name, role, account), the user and its duty, and the member's cash."""
    member = user.member
    return MemberPublic(
        user=user.id,
        duty=user.duty.value,
        name=member.name,
        role=member.role.name.lower(),
        address=member.address,
        can_sign=member.account is not None,
        cash=scf.cash.balance_of(member.address),
    )


class CreditLinePublic(BaseModel):
    """A core enterprise's issuance limit (授信额度) on the receivables contract: what it may owe at most, what
    its live receivables use of it, and what is left. A member with no credit line reads all zero."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "debtor": "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
                    "limit": "5000000.00",
                    "used": "1200000.00",
                    "available": "3800000.00",
                }
            ]
        }
    )

    debtor: str
    limit: Yuan = Field(description="the limit the operator set, yuan")
    used: Yuan = Field(description="face value of what it issued and has not yet repaid, yuan")
    available: Yuan = Field(description="limit minus used (zero if over), yuan")


@router.get("/credit-line", summary="A core enterprise's credit line: limit, used, available", responses=NOT_FOUND)
def read_credit_line(
    scf: ClientDep,
    member: CurrentMember,
    debtor: Annotated[Address | None, Query(description="whose line (operator, auditor); default the caller's")] = (
        None
    ),
) -> CreditLinePublic:
    """The caller's own credit line, read from the chain; the operator and the auditor may name any debtor,
    other members only themselves (another's line is 404 `UnknownCreditLine`). What it owes, by maturity, is
    `GET /receivables` (ordered by maturity, soonest first; `matures_from` / `matures_to` filter it)."""
    whose = member.address if debtor is None else to_checksum_address(debtor)
    if whose != member.address and not policy.sees_all(member):
        raise ApiProblem(404, "UnknownCreditLine", {"debtor": whose})
    limit, used = scf.receivables.credit_line(whose)
    return CreditLinePublic(debtor=whose, limit=limit, used=used, available=max(limit - used, 0))
