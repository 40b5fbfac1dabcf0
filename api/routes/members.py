"""GET /me: who this API key speaks for (member, role, user, duty), and its cash."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import ClientDep, CurrentUser
from api.routes.problems import AUTH
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
