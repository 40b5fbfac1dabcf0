"""What every portal page shares: the templates, who is signed in, the CSRF check of a form that changes
something, rendering a page in the chosen language, and running an action exactly as `POST /actions` does
(`api.routes.actions.submit`), its refusal turned into words.

The pages are grouped by job: `api.portal.routes` (sign-in, home, issue, pay, approvals, trees, audit),
`api.portal.market` (offers, quotes, funding, portfolio, exposure, recourse), `api.portal.admin` (the
operator's members, freezes and settings).
"""

from __future__ import annotations

import contextlib
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from pydantic import ValidationError

from api.context import ApiContext
from api.errors import ApiProblem, as_response
from api.fields import yuan_text
from api.portal import i18n
from api.portal.sessions import COOKIE, LANG_COOKIE, Session, Sessions, same
from api.routes import actions as action_routes
from api.users import CONFIGURED, User
from chain_client.exceptions import ChainError, ContractError

PREFIX = "/portal"
router = APIRouter(prefix=PREFIX, include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
templates.env.globals.update(yuan=i18n.yuan, day=i18n.day, moment=i18n.moment, percent=i18n.percent, plain=yuan_text)
MAX_DOCUMENTS = 5  # per form: a contract, an invoice, a delivery note, and room for two more
MAX_PAYEES = 8


class SignInNeeded(ChainError):
    """No session, or one that ended: the page answers with a redirect to the sign-in page."""


# ---------------------------------------------------------------------------------------------- plumbing


def context_of(request: Request) -> ApiContext:
    context: ApiContext = request.app.state.context
    return context


def sessions_of(request: Request) -> Sessions:
    sessions: Sessions = request.app.state.portal_sessions
    return sessions


def lang_of(request: Request) -> str:
    chosen = request.cookies.get(LANG_COOKIE)
    return chosen if chosen in i18n.LANGS else i18n.DEFAULT


def signed_in(request: Request) -> tuple[User, Session]:
    session = sessions_of(request).get(request.cookies.get(COOKIE))
    if session is None:
        raise SignInNeeded
    context = context_of(request)
    user_id, member_address = session.user_id.split("@", 1)
    user: User | None
    if user_id == CONFIGURED:
        member = context.users.member_at(member_address)
        user = None if member is None else context.users.configured_user(member)
    else:
        user = context.users.get(user_id)
        if user is not None and (not user.active or user.member.address != member_address):
            user = None
    if user is None:  # disabled, or its member removed from the keys file, since it signed in
        sessions_of(request).close(request.cookies.get(COOKIE))
        raise SignInNeeded
    return user, session


def writer(request: Request, csrf: str) -> User:
    """The signed-in user of a form that changes something: its CSRF token must be the session's, and its
    member active on chain (as for every write of the API)."""
    user, session = signed_in(request)
    if not same(csrf, session.csrf):
        raise ApiProblem(403, "InvalidCsrf", {})
    if not context_of(request).scf.membership.is_active(user.member.address):
        raise ApiProblem(403, "MemberSuspended", {"account": user.member.address, "user": user.id})
    return user


def page(request: Request, name: str, status: int = 200, **values: Any) -> HTMLResponse:
    lang = lang_of(request)
    signed = None
    with contextlib.suppress(SignInNeeded):
        signed = signed_in(request)
    user, session = signed if signed else (None, None)
    return templates.TemplateResponse(
        request,
        name,
        {
            "lang": lang,
            "t": lambda key: i18n.text(key, lang),
            "role_name": lambda role: i18n.pick(i18n.ROLES, role, lang),
            "duty_name": lambda duty: i18n.pick(i18n.DUTIES, duty, lang),
            "state_name": lambda state: i18n.pick(i18n.STATES, state, lang),
            "kind_name": lambda kind: i18n.pick(i18n.KINDS, kind, lang),
            "document_name": lambda kind: i18n.pick(i18n.DOCUMENT_KINDS, kind, lang),
            "user": user,
            "role": None if user is None else user.member.role.name.lower(),
            "csrf": None if session is None else session.csrf,
            "path": request.url.path,
            "field_errors": getattr(request.state, "field_errors", {}),
            **values,
        },
        status_code=status,
    )


def refusal(
    exc: ApiProblem | ContractError | ValidationError, lang: str, request: Request | None = None
) -> tuple[int, str]:
    """(status, the refusal in words). With `request`, the fields it names are kept for the page, which shows
    each message under its field (`field_error` in the templates)."""
    if request is not None:
        request.state.field_errors = fields_of(exc)
    if isinstance(exc, ValidationError):
        fields = {".".join(str(p) for p in e["loc"]): e["msg"] for e in exc.errors()}
        return 422, i18n.error_text("ValidationError", fields, lang)
    status, body = as_response(exc)
    return status, i18n.error_text(str(body["error"]), dict(body.get("fields") or {}), lang)


def outcome(action: Any, lang: str) -> tuple[str | None, str | None]:
    """(notice, error) for an action as it came back."""
    state = action.state.value
    if state == "failed":
        error = action.error or {}
        return None, i18n.error_text(str(error.get("error")), dict(error.get("fields") or {}), lang)
    key = {"executed": "done_executed", "prepared": "done_prepared", "rejected": "done_rejected"}.get(state)
    return (i18n.text(key, lang) if key else state), None


def act(request: Request, user: User, kind: str, params: dict[str, Any]) -> tuple[str | None, str | None]:
    """Prepare (and, when it need not wait, run) one action for the portal's user: (notice, error)."""
    lang = lang_of(request)
    try:
        body = action_routes.ActionAdapter.validate_python({"kind": kind, "params": params})
        action, _ = action_routes.submit(context_of(request), user, body, "portal-" + secrets.token_hex(12))
    except (ApiProblem, ContractError, ValidationError) as exc:
        return None, refusal(exc, lang, request)[1]
    return outcome(action, lang)


def invalid(request: Request, field: str, message: str) -> str:
    """A form field the portal itself finds wrong (before any action): kept for the page, which shows it under
    the field, and returned as the page's refusal in words."""
    request.state.field_errors = {field: message}
    return i18n.error_text("ValidationError", {field: message}, lang_of(request))


def fields_of(exc: Exception) -> dict[str, str]:
    """A validation refusal's messages by the form field they are about: the last name in each error's location
    (`params.face_value` -> `face_value`; `params.payments.1.value` -> `value-1`, the second row's field)."""
    found: dict[str, str] = {}
    if isinstance(exc, ValidationError):
        located = [(tuple(e["loc"]), str(e["msg"])) for e in exc.errors()]
    elif isinstance(exc, ApiProblem) and exc.error == "ValidationError":
        located = [(tuple(k.split(".")), str(v)) for k, v in exc.fields.items()]
    else:
        return found
    for loc, message in located:
        names = [str(p) for p in loc if not (isinstance(p, int) or str(p).isdigit())]
        rows = [int(p) for p in loc if isinstance(p, int) or str(p).isdigit()]
        if names:
            key = names[-1] + (f"-{rows[-1]}" if rows else "")
            found.setdefault(key, message)
    return found


def field_error(errors: dict[str, str] | None, name: str) -> Markup:
    """The message about field `name`, as a paragraph the field points at (`aria-describedby="err-{name}"`)."""
    if not errors or name not in errors:
        return Markup("")
    return Markup('<p class="field-error" id="err-{}">{}</p>').format(name, errors[name])


def local(target: str | None) -> str:
    """A redirect target inside the portal only (never another site)."""
    if not target:
        return PREFIX + "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith(PREFIX) or "\\" in target:
        return PREFIX + "/"
    return target


templates.env.globals["field_error"] = field_error
