"""GET /me: who this API key speaks for, and its cash."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import ClientDep, CurrentMember
from api.routes.problems import AUTH
from api.schemas import MemberPublic

router = APIRouter(tags=["members"], responses=AUTH)


@router.get("/me")
def me(scf: ClientDep, member: CurrentMember) -> MemberPublic:
    return MemberPublic(
        name=member.name,
        role=member.role.name.lower(),
        address=member.address,
        can_sign=member.account is not None,
        cash=scf.cash.balance_of(member.address),
    )
