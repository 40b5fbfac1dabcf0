"""The portal's pages: server-rendered HTML (Jinja2) over the same services as the HTTP API, in the same
process, with the same rules: the visibility policy (`api.policy`) decides what a page shows, an action is
prepared and approved through `api.routes.actions.submit` / `approve` exactly as `POST /actions` does, and a
refusal is the API's named error, shown in words next to the form.

No JavaScript is needed: every page is a plain form or table, so it works with a keyboard and a screen
reader, and it loads nothing but its own stylesheet from this server.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import secrets
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError

from api import audit, policy, receivables
from api.actions import State
from api.context import ApiContext
from api.documents import Kind as DocumentKind
from api.errors import ApiProblem, as_response
from api.portal import i18n
from api.portal.sessions import COOKIE, LANG_COOKIE, PRE_COOKIE, Session, Sessions, same
from api.routes import actions as action_routes
from api.routes.actions import ActionPublic
from api.routes.reconcile import read_reconciliation
from api.schemas import ReceivableFilters
from api.users import CONFIGURED, Duty, User
from chain_client.exceptions import ChainError, ContractError
from chain_client.ids import slot_of
from chain_client.membership import Role
from chain_client.receivables import ReceivableState

PREFIX = "/portal"
router = APIRouter(prefix=PREFIX, include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
templates.env.globals.update(yuan=i18n.yuan, day=i18n.day, moment=i18n.moment)
MAX_DOCUMENTS = 5  # per form: a contract, an invoice, a delivery note, and room for two more
MAX_PAYEES = 8


class SignInNeeded(ChainError):
    """No session, or one that ended: the page answers with a redirect to the sign-in page."""


# ---------------------------------------------------------------------------------------------- plumbing


def _context(request: Request) -> ApiContext:
    context: ApiContext = request.app.state.context
    return context


def _sessions(request: Request) -> Sessions:
    sessions: Sessions = request.app.state.portal_sessions
    return sessions


def lang_of(request: Request) -> str:
    chosen = request.cookies.get(LANG_COOKIE)
    return chosen if chosen in i18n.LANGS else i18n.DEFAULT


def _signed_in(request: Request) -> tuple[User, Session]:
    session = _sessions(request).get(request.cookies.get(COOKIE))
    if session is None:
        raise SignInNeeded
    context = _context(request)
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
        _sessions(request).close(request.cookies.get(COOKIE))
        raise SignInNeeded
    return user, session


def _writer(request: Request, csrf: str) -> User:
    """The signed-in user of a form that changes something: its CSRF token must be the session's, and its
    member active on chain (as for every write of the API)."""
    user, session = _signed_in(request)
    if not same(csrf, session.csrf):
        raise ApiProblem(403, "InvalidCsrf", {})
    if not _context(request).scf.membership.is_active(user.member.address):
        raise ApiProblem(403, "MemberSuspended", {"account": user.member.address, "user": user.id})
    return user


def _page(request: Request, name: str, status: int = 200, **values: Any) -> HTMLResponse:
    lang = lang_of(request)
    signed = None
    with contextlib.suppress(SignInNeeded):
        signed = _signed_in(request)
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
            "user": user,
            "role": None if user is None else user.member.role.name.lower(),
            "csrf": None if session is None else session.csrf,
            "path": request.url.path,
            **values,
        },
        status_code=status,
    )


def _refusal(exc: ApiProblem | ContractError | ValidationError, lang: str) -> tuple[int, str]:
    if isinstance(exc, ValidationError):
        fields = {".".join(str(p) for p in e["loc"]): e["msg"] for e in exc.errors()}
        return 422, i18n.error_text("ValidationError", fields, lang)
    status, body = as_response(exc)
    return status, i18n.error_text(str(body["error"]), dict(body.get("fields") or {}), lang)


def _outcome(action: Any, lang: str) -> tuple[str | None, str | None]:
    """(notice, error) for an action as it came back."""
    state = action.state.value
    if state == "failed":
        error = action.error or {}
        return None, i18n.error_text(str(error.get("error")), dict(error.get("fields") or {}), lang)
    key = {"executed": "done_executed", "prepared": "done_prepared", "rejected": "done_rejected"}.get(state)
    return (i18n.text(key, lang) if key else state), None


def _act(request: Request, user: User, kind: str, params: dict[str, Any]) -> tuple[str | None, str | None]:
    """Prepare (and, when it need not wait, run) one action for the portal's user: (notice, error)."""
    lang = lang_of(request)
    try:
        body = action_routes.ActionAdapter.validate_python({"kind": kind, "params": params})
        action, _ = action_routes.submit(_context(request), user, body, "portal-" + secrets.token_hex(12))
    except (ApiProblem, ContractError, ValidationError) as exc:
        return None, _refusal(exc, lang)[1]
    return _outcome(action, lang)


def _local(target: str | None) -> str:
    """A redirect target inside the portal only (never another site)."""
    if not target:
        return PREFIX + "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith(PREFIX) or "\\" in target:
        return PREFIX + "/"
    return target


# ---------------------------------------------------------------------------------------------- sign-in


@router.get("/sign-in")
def sign_in_page(request: Request) -> HTMLResponse:
    pre = secrets.token_urlsafe(24)
    response = _page(request, "sign_in.html", pre=pre, error=None)
    response.set_cookie(PRE_COOKIE, pre, httponly=True, samesite="strict", path=PREFIX)
    return response


@router.post("/sign-in")
def sign_in(
    request: Request, api_key: Annotated[str, Form(max_length=200)], pre: Annotated[str, Form(max_length=64)]
) -> Response:
    lang = lang_of(request)
    if not same(pre, request.cookies.get(PRE_COOKIE)):
        error = i18n.error_text("InvalidCsrf", {}, lang)
        return _page(request, "sign_in.html", status=403, pre=request.cookies.get(PRE_COOKIE, ""), error=error)
    user = _context(request).users.identify(api_key.strip())
    if user is None:
        error = i18n.error_text("UnknownKey", {}, lang)
        return _page(request, "sign_in.html", status=401, pre=pre, error=error)
    token, _ = _sessions(request).open(f"{user.id}@{user.member.address}")
    response = RedirectResponse(PREFIX + "/", status_code=303)
    response.set_cookie(COOKIE, token, httponly=True, samesite="strict", path=PREFIX)
    response.delete_cookie(PRE_COOKIE, path=PREFIX)
    return response


@router.post("/sign-out")
def sign_out(request: Request, csrf: Annotated[str, Form(max_length=64)]) -> Response:
    _writer(request, csrf)
    _sessions(request).close(request.cookies.get(COOKIE))
    response = RedirectResponse(PREFIX + "/sign-in", status_code=303)
    response.delete_cookie(COOKIE, path=PREFIX)
    return response


@router.get("/lang/{lang}")
def choose_language(lang: str, next: str | None = None) -> Response:
    response = RedirectResponse(_local(next), status_code=303)
    if lang in i18n.LANGS:
        response.set_cookie(LANG_COOKIE, lang, samesite="strict", path=PREFIX, max_age=365 * 86400)
    return response


# ---------------------------------------------------------------------------------------------- home


def _home_values(request: Request, user: User) -> dict[str, Any]:
    context = _context(request)
    member = user.member
    values: dict[str, Any] = {"holdings": [], "pending": [], "owed": [], "credit": None, "waiting": 0}
    with context.read() as view:
        if member.role in (Role.SUPPLIER, Role.FINANCIER):
            held = sorted(view.index.holdings(member.address, at=view.now), key=lambda h: (h.maturity, h.token_id))
            values["pending"] = [h for h in held if h.state is ReceivableState.PENDING]
            values["holdings"] = [h for h in held if h.state is not ReceivableState.PENDING]
    if member.role is Role.CORE_ENTERPRISE:
        filters = ReceivableFilters.model_validate({"limit": 100})
        values["owed"] = receivables.listing(context, member, filters).data
        limit, used = context.scf.receivables.credit_line(member.address)
        values["credit"] = {"limit": limit, "used": used, "available": max(limit - used, 0)}
    values["waiting"] = context.actions.page(member.address, State.PREPARED, 0, 1)[1]
    return values


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    user, _ = _signed_in(request)
    notice, error = request.query_params.get("notice"), None
    return _page(
        request,
        "home.html",
        notice=i18n.text(notice, lang_of(request)) if notice in i18n.TEXT else None,
        error=error,
        **_home_values(request, user),
    )


@router.post("/vouchers/{token_id}/{verb}")
def voucher_action(
    request: Request, token_id: str, verb: str, csrf: Annotated[str, Form(max_length=64)]
) -> HTMLResponse:
    """Accept, reject or redeem one voucher the user's member holds."""
    user = _writer(request, csrf)
    if verb not in ("accept", "reject", "redeem"):
        raise ApiProblem(404, "NotFound", {"path": request.url.path})
    notice, error = _act(request, user, verb, {"token_id": token_id})
    return _page(request, "home.html", notice=notice, error=error, **_home_values(request, user))


# ---------------------------------------------------------------------------------------------- issue (core)


def _issue_page(request: Request, status: int = 200, **values: Any) -> HTMLResponse:
    context = _context(request)
    suppliers = [m for m in context.users.members if m.role is Role.SUPPLIER]
    defaults: dict[str, Any] = {"notice": None, "error": None, "form": {}}
    return _page(request, "issue.html", status=status, suppliers=suppliers, **{**defaults, **values})


@router.get("/issue", response_class=HTMLResponse)
def issue_page(request: Request) -> HTMLResponse:
    _signed_in(request)
    return _issue_page(request)


@router.post("/issue", response_class=HTMLResponse)
def issue(
    request: Request,
    csrf: Annotated[str, Form(max_length=64)],
    supplier: Annotated[str, Form(max_length=64)],
    face_value: Annotated[str, Form(max_length=40)],
    maturity: Annotated[str, Form(max_length=10)],
    documents: Annotated[list[UploadFile] | None, File()] = None,
    kinds: Annotated[list[str] | None, Form()] = None,
) -> HTMLResponse:
    """Upload the trade documents, then prepare the issue with their combined hash (maker-checker as any
    action). A refused upload or a refused issue leaves the form filled in, with the reason next to it."""
    user = _writer(request, csrf)
    lang = lang_of(request)
    form = {"supplier": supplier, "face_value": face_value, "maturity": maturity}
    files = [f for f in (documents or []) if f.filename][:MAX_DOCUMENTS]
    if not files:
        return _issue_page(
            request, 422, form=form, error=i18n.error_text("ValidationError", {"documents": "at least one"}, lang)
        )
    try:
        when = dt.datetime.strptime(maturity, "%Y-%m-%d").replace(tzinfo=dt.UTC)
    except ValueError:
        return _issue_page(
            request, 422, form=form, error=i18n.error_text("ValidationError", {"maturity": "YYYY-MM-DD"}, lang)
        )
    digests = []
    context = _context(request)
    try:
        for i, upload in enumerate(files):
            kind = (
                DocumentKind((kinds or [])[i])
                if kinds and i < len(kinds) and kinds[i] in DocumentKind._value2member_map_
                else DocumentKind.INVOICE
            )
            document, _ = context.documents.put(upload.file, kind, user.member.address)
            digests.append(document.sha256)
    except ApiProblem as exc:
        status, message = _refusal(exc, lang)
        return _issue_page(request, status, form=form, error=message)
    params = {
        "supplier": supplier,
        "face_value": face_value,
        "maturity": int(when.timestamp()),
        "documents": sorted(set(digests)),
    }
    notice, error = _act(request, user, "issue", params)
    return _issue_page(request, 200 if error is None else 409, form=form if error else {}, notice=notice, error=error)


# ---------------------------------------------------------------------------------------------- pay suppliers


def _pay_page(request: Request, user: User, status: int = 200, **values: Any) -> HTMLResponse:
    context = _context(request)
    with context.read() as view:
        held = [h for h in view.index.holdings(user.member.address, at=view.now) if h.state is ReceivableState.ACTIVE]
    payees = [m for m in context.users.members if m.role is Role.SUPPLIER and m.address != user.member.address]
    defaults: dict[str, Any] = {"notice": None, "error": None, "rows": MAX_PAYEES // 2}
    return _page(request, "pay.html", status=status, held=held, payees=payees, **{**defaults, **values})


@router.get("/pay", response_class=HTMLResponse)
def pay_page(request: Request) -> HTMLResponse:
    user, _ = _signed_in(request)
    return _pay_page(request, user)


@router.post("/pay", response_class=HTMLResponse)
def pay(
    request: Request,
    csrf: Annotated[str, Form(max_length=64)],
    token_id: Annotated[str, Form(max_length=80)],
    to: Annotated[list[str] | None, Form()] = None,
    value: Annotated[list[str] | None, Form()] = None,
) -> HTMLResponse:
    user = _writer(request, csrf)
    rows = [(a.strip(), v.strip()) for a, v in zip(to or [], value or [], strict=False) if a.strip() or v.strip()]
    payments = [{"to": a, "value": v} for a, v in rows[:MAX_PAYEES]]
    notice, error = _act(request, user, "pay_suppliers", {"token_id": token_id, "payments": payments})
    return _pay_page(request, user, 200 if error is None else 409, notice=notice, error=error)


# ---------------------------------------------------------------------------------------------- approvals


def _approvals_page(request: Request, user: User, **values: Any) -> HTMLResponse:
    context = _context(request)
    context.actions.expire_due()
    waiting, _ = context.actions.page(user.member.address, State.PREPARED, 0, 100)
    recent, count = context.actions.page(user.member.address, None, 0, 1)
    recent, _ = context.actions.page(user.member.address, None, max(count - 20, 0), 20)
    shown = {"waiting": [ActionPublic.of(a) for a in waiting], "recent": [ActionPublic.of(a) for a in reversed(recent)]}
    return _page(
        request,
        "approvals.html",
        checker=user.duty is Duty.CHECKER,
        **{"notice": None, "error": None, **shown, **values},
    )


@router.get("/approvals", response_class=HTMLResponse)
def approvals_page(request: Request) -> HTMLResponse:
    user, _ = _signed_in(request)
    return _approvals_page(request, user)


@router.post("/approvals/{action_id}/{verb}", response_class=HTMLResponse)
def decide(request: Request, action_id: str, verb: str, csrf: Annotated[str, Form(max_length=64)]) -> HTMLResponse:
    user = _writer(request, csrf)
    lang = lang_of(request)
    try:
        if verb == "approve":
            notice, error = _outcome(action_routes.approve(_context(request), user, action_id), lang)
        elif verb == "reject":
            notice, error = _outcome(action_routes.reject(_context(request), user, action_id, None), lang)
        else:
            raise ApiProblem(404, "NotFound", {"path": request.url.path})
    except (ApiProblem, ContractError) as exc:
        notice, error = None, _refusal(exc, lang)[1]
    return _approvals_page(request, user, notice=notice, error=error)


# ---------------------------------------------------------------------------------------------- trees, search


@router.get("/receivables/{slot}", response_class=HTMLResponse)
def receivable_page(request: Request, slot: str) -> HTMLResponse:
    user, _ = _signed_in(request)
    lang = lang_of(request)
    try:
        found = receivables.tree(_context(request), user.member, int(slot))
    except (ApiProblem, ContractError, ValueError, OverflowError):
        return _page(
            request, "message.html", status=404, message=i18n.error_text("NotFound", {"slot": slot[:80]}, lang)
        )
    children: dict[int, list[Any]] = {}
    for node in found.fragments:
        children.setdefault(node.parent_id, []).append(node)
    return _page(request, "receivable.html", r=found.receivable, children=children, roots=children.get(0, []))


@router.get("/search", response_class=HTMLResponse)
def search(request: Request, q: str = "") -> Response:
    """A slot or a voucher id opens its receivable (if the caller may see it); anything else is not found."""
    _signed_in(request)
    text = q.strip()[:90]
    if text.isdigit():
        number = int(text)
        slot = number if number < 2**64 else slot_of(number)
        return RedirectResponse(f"{PREFIX}/receivables/{slot}", status_code=303)
    return _page(
        request, "message.html", status=404, message=i18n.error_text("NotFound", {"q": text}, lang_of(request))
    )


# ---------------------------------------------------------------------------------------------- audit


def _auditor(request: Request) -> User:
    user, _ = _signed_in(request)
    policy.require_sees_all(user.member)
    return user


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request) -> HTMLResponse:
    _auditor(request)
    context = _context(request)
    context.actions.expire_due()
    with context.actions.reading() as conn:
        _, count = audit.page(conn, member=None, action=None, offset=0, limit=1)
        entries, _ = audit.page(conn, member=None, action=None, offset=max(count - 100, 0), limit=100)
        verified = audit.verify(conn)
    return _page(request, "audit.html", entries=list(reversed(entries)), verified=verified)


@router.get("/reconcile", response_class=HTMLResponse)
def reconcile_page(request: Request) -> HTMLResponse:
    user = _auditor(request)
    report = read_reconciliation(_context(request), user.member)
    return _page(request, "reconcile.html", report=report)
