"""Users of a member: create, list, read, disable, rotate a key. A member's admin users manage its own users;
the operator's admin users manage every member's."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from api.context import Member
from api.deps import ActiveUser, ContextDep, CurrentUser
from api.errors import ApiProblem
from api.fields import MAX_OFFSET, Address
from api.routes.problems import AUTH, NOT_FOUND
from api.users import Duty, User, Users
from chain_client.membership import Role

router = APIRouter(prefix="/users", tags=["users"], responses=AUTH)

USER_ID_PATTERN = r"^u_[0-9a-f]{16}$"
UserId = Annotated[str, Path(pattern=USER_ID_PATTERN, max_length=18, examples=["u_3f9a1c07b2d4e5f6"])]
# A person's or a system's name: printable, no control characters (it ends up in the audit trail and logs).
NAME_PATTERN = r"^[^\x00-\x1f\x7f]{1,100}$"


class UserCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"name": "Li Wei (AP clerk)", "duty": "maker"}]},
    )

    name: str = Field(min_length=1, max_length=100, pattern=NAME_PATTERN)
    duty: Duty
    member: Address | None = Field(
        default=None, description="the member's account; only the operator names another member than its own"
    )


_USER_EXAMPLE: JsonDict = {
    "id": "u_3f9a1c07b2d4e5f6",
    "name": "Li Wei (AP clerk)",
    "duty": "maker",
    "member": "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    "member_name": "Huazhong Heavy Industry",
    "active": True,
    "created_at": 1764590400,
}


class UserPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_USER_EXAMPLE]})

    id: str = Field(description='"admin" for the member\'s API key from the keys file, else "u_" and 16 hex digits')
    name: str
    duty: Duty
    member: str
    member_name: str
    active: bool
    created_at: int = Field(description="unix seconds (wall clock); 0 for the configured key")

    @classmethod
    def of(cls, user: User) -> UserPublic:
        return cls(
            id=user.id,
            name=user.name,
            duty=user.duty,
            member=user.member.address,
            member_name=user.member.name,
            active=user.active,
            created_at=int(user.created_at),
        )


class UserKeyPublic(UserPublic):
    """A user and its new key: shown this once, stored only as a hash."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{**_USER_EXAMPLE, "api_key": "scfu_Q2hhbmdlIG1lIGJlZm9yZSB1c2UgaW4gcHJvZHVjdGlvbg"}]
        }
    )

    api_key: str = Field(description="the user's Bearer key: shown only in this response, stored only as a hash")


class UsersPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"data": [_USER_EXAMPLE], "count": 1}]})

    data: list[UserPublic]
    count: int


def _is_operator(user: User) -> bool:
    return user.member.role is Role.OPERATOR


def _require_admin(user: User) -> None:
    if user.duty is not Duty.ADMIN:
        raise ApiProblem(403, "DutyNotAllowed", {"duty": user.duty.value, "allowed": [Duty.ADMIN.value]})


def _managed(users: Users, caller: User, user_id: str) -> User:
    """A user the caller may manage; others are unknown to it (404: their existence is private too)."""
    _require_admin(caller)
    found = users.get(user_id)
    if found is None or not (_is_operator(caller) or found.member.address == caller.member.address):
        raise ApiProblem(404, "UnknownUser", {"id": user_id})
    return found


def _target_member(users: Users, caller: User, address: str | None) -> Member:
    if address is None or address == caller.member.address:
        return caller.member
    if not _is_operator(caller):
        raise ApiProblem(403, "WrongRole", {"role": caller.member.role.name.lower(), "allowed": ["operator"]})
    member = users.member_at(address)
    if member is None:
        raise ApiProblem(404, "UnknownMember", {"account": address, "detail": "not a member this API serves"})
    return member


@router.post("", status_code=201, responses=NOT_FOUND, summary="Create a user (its key shown once)")
def create_user(context: ContextDep, caller: ActiveUser, body: UserCreate, response: Response) -> UserKeyPublic:
    """Create a user of the caller's member (the operator may name any member this API serves). The answer
    carries the new user's key, once: keep it, it cannot be read again (rotate it if lost)."""
    _require_admin(caller)
    member = _target_member(context.users, caller, body.member)
    user, key = context.users.create(member, body.name, body.duty, caller)
    response.headers["Location"] = f"/users/{user.id}"
    return UserKeyPublic(**UserPublic.of(user).model_dump(), api_key=key)


@router.get("", summary="List a member's users")
def list_users(
    context: ContextDep,
    caller: CurrentUser,
    member: Annotated[Address | None, Query(description="operator only: one member's users")] = None,
    skip: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> UsersPublic:
    """The users of the caller's member (the operator: of every member, or of `member`), oldest first, not counting
    the configured key. Admins only."""
    _require_admin(caller)
    scope = member if _is_operator(caller) else caller.member.address
    data, count = context.users.page(scope, skip, limit)
    return UsersPublic(data=[UserPublic.of(u) for u in data], count=count)


@router.get("/{user_id}", responses=NOT_FOUND, summary="Read a user")
def read_user(context: ContextDep, caller: CurrentUser, user_id: UserId) -> UserPublic:
    return UserPublic.of(_managed(context.users, caller, user_id))


@router.post("/{user_id}/disable", responses=NOT_FOUND, summary="Disable a user")
def disable_user(context: ContextDep, caller: ActiveUser, user_id: UserId) -> UserPublic:
    """Disable a user: its key is refused (401) from now on. Disabling twice is harmless."""
    found = _managed(context.users, caller, user_id)
    context.users.disable(found.id)
    return UserPublic.of(_managed(context.users, caller, user_id))


@router.post("/{user_id}/rotate-key", responses=NOT_FOUND, summary="Give a user a new key")
def rotate_key(context: ContextDep, caller: ActiveUser, user_id: UserId) -> UserKeyPublic:
    """Give a user a new key (shown once); the old one is refused from now on."""
    found = _managed(context.users, caller, user_id)
    key = context.users.rotate(found.id)
    return UserKeyPublic(**UserPublic.of(found).model_dump(), api_key=key)
