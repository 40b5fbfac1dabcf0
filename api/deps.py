"""Dependencies as `Annotated` aliases: the context, the client, and who is calling in what role."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, cast

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.auth import CHALLENGE, api_key_of
from api.context import ApiContext, Member
from api.errors import ApiProblem
from api.users import User
from chain_client.client import ScfClient
from chain_client.membership import Role

_bearer = HTTPBearer(auto_error=False, description="a consortium member's API key")


def get_context(request: Request) -> ApiContext:
    return cast(ApiContext, request.app.state.context)


ContextDep = Annotated[ApiContext, Depends(get_context)]


def get_client(context: ContextDep) -> ScfClient:
    return context.scf


ClientDep = Annotated[ScfClient, Depends(get_client)]


def current_user(
    context: ContextDep,
    request: Request,
    _: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],  # declares the scheme in OpenAPI
) -> User:
    """The user behind the Bearer key: a member's configured key (its admin) or a user's own key (`api.users`)."""
    key = api_key_of(request.headers.get("Authorization"))
    if key is None:
        raise ApiProblem(401, "Unauthorized", {"detail": "send Authorization: Bearer <api key>"}, headers=CHALLENGE)
    user = context.users.identify(key)
    if user is None:
        raise ApiProblem(401, "Unauthorized", {"detail": "unknown API key"}, headers=CHALLENGE)
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def current_member(user: CurrentUser) -> Member:
    return user.member


CurrentMember = Annotated[Member, Depends(current_member)]


def require_role(*roles: Role) -> Callable[[Member], Member]:
    """A dependency that lets through only members in one of `roles` (403 for the others)."""
    allowed = sorted(r.name.lower() for r in roles)

    def check(member: CurrentMember) -> Member:
        if member.role not in roles:
            raise ApiProblem(403, "WrongRole", {"role": member.role.name.lower(), "allowed": allowed})
        return member

    return check


Lender = Annotated[Member, Depends(require_role(Role.FINANCIER))]
Holder = Annotated[Member, Depends(require_role(Role.SUPPLIER, Role.FINANCIER))]
Operator = Annotated[Member, Depends(require_role(Role.OPERATOR))]


def active_user(context: ContextDep, user: CurrentUser) -> User:
    """A user whose member is active on chain: every write of `api.users`, `api.actions` and `POST /transactions`
    asks for one (a suspended member's users are refused, 403 `MemberSuspended`)."""
    if not context.scf.membership.is_active(user.member.address):
        raise ApiProblem(403, "MemberSuspended", {"account": user.member.address, "user": user.id})
    return user


ActiveUser = Annotated[User, Depends(active_user)]


def not_a_viewer(user: CurrentUser) -> User:
    """The lender endpoints that move value (submit, fund) take the member; a viewer user of it may not call them."""
    if user.duty.value == "viewer":
        raise ApiProblem(403, "DutyNotAllowed", {"duty": user.duty.value, "allowed": ["admin", "maker", "checker"]})
    return user
