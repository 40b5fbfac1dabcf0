"""The portal's own pages: sign-in, home, issue, pay my suppliers, approvals, trees, search, audit.

Server-rendered HTML (Jinja2) over the same services as the HTTP API, in the same
process, with the same rules: the visibility policy (`api.policy`) decides what a page shows, an action is
prepared and approved through `api.routes.actions.submit` / `approve` exactly as `POST /actions` does, and a
refusal is the API's named error, shown in words next to the form.

No JavaScript is needed: every page is a plain form or table, so it works with a keyboard and a screen
reader, and it loads nothing but its own stylesheet from this server.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from typing import Annotated, Any

from eth_utils.address import to_checksum_address
from fastapi import File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api import audit, fragments, policy, receivables
from api.actions import State
from api.documents import Kind as DocumentKind
from api.errors import ApiProblem
from api.portal import charts, i18n
from api.portal.sessions import COOKIE, LANG_COOKIE, PRE_COOKIE, same
from api.portal.tree import credit_tree_svg
from api.portal.web import (
    MAX_DOCUMENTS,
    MAX_PAYEES,
    PREFIX,
    act,
    context_of,
    invalid,
    lang_of,
    local,
    outcome,
    page,
    refusal,
    router,
    sessions_of,
    signed_in,
    writer,
)
from api.routes import actions as action_routes
from api.routes.actions import ActionPublic
from api.routes.documents import download_document, receivable_documents
from api.routes.reconcile import read_reconciliation
from api.schemas import ReceivableFilters
from api.users import Duty, User
from chain_client.apps.scenario.svg import TREE_CSS
from chain_client.exceptions import ContractError
from chain_client.membership import Role
from chain_client.money import parse_yuan
from chain_client.receivables import ReceivableState

# ---------------------------------------------------------------------------------------------- sign-in


@router.get("/sign-in")
def sign_in_page(request: Request) -> HTMLResponse:
    pre = secrets.token_urlsafe(24)
    response = page(request, "sign_in.html", pre=pre, error=None)
    response.set_cookie(PRE_COOKIE, pre, httponly=True, samesite="strict", path=PREFIX)
    return response


@router.post("/sign-in")
def sign_in(
    request: Request, api_key: Annotated[str, Form(max_length=200)], pre: Annotated[str, Form(max_length=64)]
) -> Response:
    lang = lang_of(request)
    if not same(pre, request.cookies.get(PRE_COOKIE)):
        error = i18n.error_text("InvalidCsrf", {}, lang)
        return page(request, "sign_in.html", status=403, pre=request.cookies.get(PRE_COOKIE, ""), error=error)
    user = context_of(request).users.identify(api_key.strip())
    if user is None:
        error = i18n.error_text("UnknownKey", {}, lang)
        return page(request, "sign_in.html", status=401, pre=pre, error=error)
    token, _ = sessions_of(request).open(f"{user.id}@{user.member.address}")
    response = RedirectResponse(PREFIX + "/", status_code=303)
    response.set_cookie(COOKIE, token, httponly=True, samesite="strict", path=PREFIX)
    response.delete_cookie(PRE_COOKIE, path=PREFIX)
    return response


@router.post("/sign-out")
def sign_out(request: Request, csrf: Annotated[str, Form(max_length=64)]) -> Response:
    writer(request, csrf)
    sessions_of(request).close(request.cookies.get(COOKIE))
    response = RedirectResponse(PREFIX + "/sign-in", status_code=303)
    response.delete_cookie(COOKIE, path=PREFIX)
    return response


@router.get("/lang/{lang}")
def choose_language(lang: str, next: str | None = None) -> Response:
    response = RedirectResponse(local(next), status_code=303)
    if lang in i18n.LANGS:
        response.set_cookie(LANG_COOKIE, lang, samesite="strict", path=PREFIX, max_age=365 * 86400)
    return response


# ---------------------------------------------------------------------------------------------- home


def _home_values(request: Request, user: User) -> dict[str, Any]:
    context = context_of(request)
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
        values["ladder"] = _maturity_ladder(values["owed"], lang_of(request))
    values["waiting"] = context.actions.page(member.address, State.PREPARED, 0, 1)[1]
    return values


def _maturity_ladder(owed: list[Any], lang: str) -> str:
    """What the core still owes, summed by the month it falls due (face value less what it has repaid)."""
    by_month: dict[str, int] = {}
    for r in owed:
        if r.state.name in ("ACTIVE", "MATURED", "OVERDUE"):  # api.schemas.State: the API's words for them
            month = i18n.day(r.maturity)[:7]
            by_month[month] = by_month.get(month, 0) + max(r.face_value - r.repaid, 0)
    bars = [charts.Bar(month, due) for month, due in sorted(by_month.items())]
    return charts.bars(bars, i18n.text("ladder", lang))


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    user, _ = signed_in(request)
    notice, error = request.query_params.get("notice"), None
    return page(
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
    user = writer(request, csrf)
    if verb not in ("accept", "reject", "redeem"):
        raise ApiProblem(404, "NotFound", {"path": request.url.path})
    notice, error = act(request, user, verb, {"token_id": token_id})
    return page(request, "home.html", notice=notice, error=error, **_home_values(request, user))


@router.post("/receivables/{slot}/{verb}", response_class=HTMLResponse)
def receivable_action(
    request: Request,
    slot: str,
    verb: str,
    csrf: Annotated[str, Form(max_length=64)],
    amount: Annotated[str, Form(max_length=40)] = "",
) -> HTMLResponse:
    """The core repays (all that is outstanding, or `amount`) or cancels what was not accepted; anyone but the
    auditor may mark a receivable overdue past its grace period."""
    user = writer(request, csrf)
    if verb not in ("repay", "cancel", "mark_overdue"):
        raise ApiProblem(404, "NotFound", {"path": request.url.path})
    params: dict[str, Any] = {"slot": slot[:80]}
    if verb == "repay":
        params["amount"] = amount.strip()
    notice, error = act(request, user, verb, params)
    return page(request, "home.html", notice=notice, error=error, **_home_values(request, user))


# ---------------------------------------------------------------------------------------------- issue (core)


def _issue_page(request: Request, status: int = 200, **values: Any) -> HTMLResponse:
    context = context_of(request)
    suppliers = [m for m in context.users.members if m.role is Role.SUPPLIER]
    defaults: dict[str, Any] = {"notice": None, "error": None, "form": {}}
    return page(request, "issue.html", status=status, suppliers=suppliers, **{**defaults, **values})


@router.get("/issue", response_class=HTMLResponse)
def issue_page(request: Request) -> HTMLResponse:
    signed_in(request)
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
    user = writer(request, csrf)
    lang = lang_of(request)
    form = {"supplier": supplier, "face_value": face_value, "maturity": maturity}
    files = [f for f in (documents or []) if f.filename][:MAX_DOCUMENTS]
    if not files:
        return _issue_page(request, 422, form=form, error=invalid(request, "documents", "at least one"))
    try:
        when = dt.datetime.strptime(maturity, "%Y-%m-%d").replace(tzinfo=dt.UTC)
    except ValueError:
        return _issue_page(request, 422, form=form, error=invalid(request, "maturity", "YYYY-MM-DD"))
    digests = []
    context = context_of(request)
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
        status, message = refusal(exc, lang)
        return _issue_page(request, status, form=form, error=message)
    params = {
        "supplier": supplier,
        "face_value": face_value,
        "maturity": int(when.timestamp()),
        "documents": sorted(set(digests)),
    }
    notice, error = act(request, user, "issue", params)
    return _issue_page(request, 200 if error is None else 409, form=form if error else {}, notice=notice, error=error)


# ---------------------------------------------------------------------------------------------- pay suppliers


def _pay_page(request: Request, user: User, status: int = 200, **values: Any) -> HTMLResponse:
    context = context_of(request)
    with context.read() as view:
        held = [h for h in view.index.holdings(user.member.address, at=view.now) if h.state is ReceivableState.ACTIVE]
    payees = [m for m in context.users.members if m.role is Role.SUPPLIER and m.address != user.member.address]
    defaults: dict[str, Any] = {"notice": None, "error": None, "rows": MAX_PAYEES // 2, "form": {}, "preview": None}
    return page(request, "pay.html", status=status, held=held, payees=payees, **{**defaults, **values})


@router.get("/pay", response_class=HTMLResponse)
def pay_page(request: Request) -> HTMLResponse:
    user, _ = signed_in(request)
    return _pay_page(request, user)


@router.post("/pay", response_class=HTMLResponse)
def pay(
    request: Request,
    csrf: Annotated[str, Form(max_length=64)],
    token_id: Annotated[str, Form(max_length=80)],
    to: Annotated[list[str] | None, Form()] = None,
    value: Annotated[list[str] | None, Form()] = None,
    step: Annotated[str, Form(max_length=10)] = "pay",
    doc: Annotated[list[str] | None, Form()] = None,
    documents: Annotated[list[UploadFile] | None, File()] = None,
) -> HTMLResponse:
    """Two steps: `preview` stores the trade's documents (content-addressed: a second upload is the same
    file) and shows each payee, the total and what remains on the voucher; `pay` sends the payment with the
    documents' combined hash as its memo, as `pay_suppliers` does over HTTP."""
    user = writer(request, csrf)
    lang = lang_of(request)
    rows = [(a.strip(), v.strip()) for a, v in zip(to or [], value or [], strict=False) if a.strip() or v.strip()]
    rows = rows[:MAX_PAYEES]
    kept = [d for d in (doc or []) if re.fullmatch(r"[0-9a-f]{64}", d)][:MAX_DOCUMENTS]
    form = {"token_id": token_id, "rows": rows, "documents": kept}
    try:
        for upload in [f for f in (documents or []) if f.filename][: MAX_DOCUMENTS - len(kept)]:
            stored, _ = context_of(request).documents.put(upload.file, DocumentKind.CONTRACT, user.member.address)
            kept.append(stored.sha256)
    except ApiProblem as exc:
        status, message = refusal(exc, lang)
        return _pay_page(request, user, status, form=form, error=message)
    form["documents"] = sorted(set(kept))
    if step == "preview":
        preview, problem = _pay_preview(request, user, token_id, rows, lang)
        return _pay_page(request, user, 200 if problem is None else 422, form=form, preview=preview, error=problem)
    params: dict[str, Any] = {"token_id": token_id, "payments": [{"to": a, "value": v} for a, v in rows]}
    if form["documents"]:
        params["documents"] = form["documents"]
    notice, error = act(request, user, "pay_suppliers", params)
    return _pay_page(
        request, user, 200 if error is None else 409, notice=notice, error=error, form={} if notice else form
    )


def _pay_preview(
    request: Request, user: User, token_id: str, rows: list[tuple[str, str]], lang: str
) -> tuple[dict[str, Any] | None, str | None]:
    """Each payee by name with its amount, the total, and what stays with the payer: or the field that is wrong."""
    names = {m.address.lower(): m.name for m in context_of(request).users.members}
    with context_of(request).read() as view:
        held = {h.token_id: h for h in view.index.holdings(user.member.address, at=view.now)}
    voucher = held.get(int(token_id)) if token_id.isdigit() and len(token_id) <= 80 else None
    if voucher is None:
        return None, invalid(request, "token_id", token_id[:80])
    lines: list[dict[str, Any]] = []
    for i, (address, amount) in enumerate(rows):
        try:
            fen = parse_yuan(amount)
        except ValueError:
            return None, invalid(request, f"value-{i}", f"{amount[:40]}: yuan, at most two decimals")
        lines.append({"to": address, "name": names.get(address.lower(), ""), "value": fen})
    total = sum(line["value"] for line in lines)
    return {"lines": lines, "total": total, "remains": voucher.value - total, "voucher": voucher.value}, None


# ---------------------------------------------------------------------------------------------- approvals


def _approvals_page(request: Request, user: User, **values: Any) -> HTMLResponse:
    context = context_of(request)
    context.actions.expire_due()
    waiting, _ = context.actions.page(user.member.address, State.PREPARED, 0, 100)
    recent, count = context.actions.page(user.member.address, None, 0, 1)
    recent, _ = context.actions.page(user.member.address, None, max(count - 20, 0), 20)
    shown = {"waiting": [ActionPublic.of(a) for a in waiting], "recent": [ActionPublic.of(a) for a in reversed(recent)]}
    return page(
        request,
        "approvals.html",
        checker=user.duty is Duty.CHECKER,
        **{"notice": None, "error": None, **shown, **values},
    )


@router.get("/approvals", response_class=HTMLResponse)
def approvals_page(request: Request) -> HTMLResponse:
    user, _ = signed_in(request)
    return _approvals_page(request, user)


@router.post("/approvals/{action_id}/{verb}", response_class=HTMLResponse)
def decide(request: Request, action_id: str, verb: str, csrf: Annotated[str, Form(max_length=64)]) -> HTMLResponse:
    user = writer(request, csrf)
    lang = lang_of(request)
    try:
        if verb == "approve":
            notice, error = outcome(action_routes.approve(context_of(request), user, action_id), lang)
        elif verb == "reject":
            notice, error = outcome(action_routes.reject(context_of(request), user, action_id, None), lang)
        else:
            raise ApiProblem(404, "NotFound", {"path": request.url.path})
    except (ApiProblem, ContractError) as exc:
        notice, error = None, refusal(exc, lang)[1]
    return _approvals_page(request, user, notice=notice, error=error)


# ---------------------------------------------------------------------------------------------- trees, search


@router.get("/receivables/{slot}", response_class=HTMLResponse)
def receivable_page(request: Request, slot: str) -> HTMLResponse:
    user, _ = signed_in(request)
    lang = lang_of(request)
    try:
        found = receivables.tree(context_of(request), user.member, int(slot))
    except (ApiProblem, ContractError, ValueError, OverflowError):
        return page(request, "message.html", status=404, message=i18n.error_text("NotFound", {"slot": slot[:80]}, lang))
    children: dict[int, list[Any]] = {}
    for node in found.fragments:
        children.setdefault(node.parent_id, []).append(node)
    picture = ""
    if policy.sees_all(user.member) or user.member.address == found.receivable.debtor:  # the whole tree
        context = context_of(request)
        names = {m.address: m.name for m in context.users.members}
        with context.read() as view:
            picture = credit_tree_svg(context, view, found.receivable.slot, names)
    papers = receivable_documents(context_of(request), user.member, found.receivable.slot)
    values: dict[str, Any] = {
        "children": children,
        "roots": children.get(0, []),
        "picture": picture,
        "tree_css": TREE_CSS,
    }
    return page(request, "receivable.html", r=found.receivable, papers=papers, **values)


@router.get("/fragments/{token_id}", response_class=HTMLResponse)
def fragment_page(request: Request, token_id: str) -> HTMLResponse:
    """One voucher: its figures and its path back to the one the core issued (who paid whom, when, in which
    transaction, with which documents' hash), for a member who may see it (`GET /fragments/{id}`)."""
    user, _ = signed_in(request)
    lang = lang_of(request)
    try:
        found = fragments.fragment(context_of(request), user.member, int(token_id[:80]))
    except (ApiProblem, ContractError, ValueError, OverflowError):
        return page(
            request, "message.html", status=404, message=i18n.error_text("NotFound", {"id": token_id[:80]}, lang)
        )
    names = {m.address: m.name for m in context_of(request).users.members}
    return page(request, "fragment.html", f=found, names=names)


@router.get("/documents/{sha256}")
def document(request: Request, sha256: str) -> Response:
    """A trade document's bytes, for whoever `GET /documents/{sha256}` serves it to (its uploaders, and those
    who may see a receivable or payment it backs); not found otherwise."""
    user, _ = signed_in(request)
    if not re.fullmatch(r"[0-9a-f]{64}", sha256):
        return page(request, "message.html", status=404, message=i18n.error_text("NotFound", {}, lang_of(request)))
    try:
        return download_document(context_of(request), user.member, sha256)
    except ApiProblem as exc:
        return page(request, "message.html", status=404, message=refusal(exc, lang_of(request))[1])


HEX_HASH = re.compile(r"0x[0-9a-fA-F]{64}")
HEX_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


@router.get("/search", response_class=HTMLResponse)
def search(request: Request, q: str = "") -> Response:
    """A slot, a voucher id or a document hash opens its receivable; an address opens that member's page. What
    the caller may not see is not found (`api.policy`, applied by the page it opens)."""
    signed_in(request)
    text = q.strip()[:90]
    if HEX_ADDRESS.fullmatch(text):
        return RedirectResponse(f"{PREFIX}/members/{to_checksum_address(text)}", status_code=303)
    number = int(text) if text.isdigit() else int(text, 16) if HEX_HASH.fullmatch(text) else None
    if number is not None:
        with context_of(request).read() as view:
            slot = view.index.resolve_slot(number)
        if slot is not None:
            return RedirectResponse(f"{PREFIX}/receivables/{slot}", status_code=303)
    return page(request, "message.html", status=404, message=i18n.error_text("NotFound", {"q": text}, lang_of(request)))


@router.get("/members/{address}", response_class=HTMLResponse)
def member_page(request: Request, address: str) -> HTMLResponse:
    """One member as the platform knows it: what it holds, what it owes as a debtor, what it financed or sold.
    The operator and the auditor see any member; anyone else only its own."""
    user, _ = signed_in(request)
    lang = lang_of(request)
    whose = to_checksum_address(address) if HEX_ADDRESS.fullmatch(address) else None
    if whose is None or (whose != user.member.address and not policy.sees_all(user.member)):
        return page(
            request, "message.html", status=404, message=i18n.error_text("NotFound", {"member": address[:42]}, lang)
        )
    context = context_of(request)
    with context.read() as view:
        holdings = sorted(view.index.holdings(whose, at=view.now), key=lambda h: (h.maturity, h.token_id))
        owed = view.index.receivables(debtor=whose, at=view.now)
        deals = view.index.financings(party=whose)
        role = next((m.role for m in view.index.members() if m.account == whose), None)
    name = next((m.name for m in context.users.members if m.address == whose), "")
    return page(
        request,
        "member.html",
        address=whose,
        member_name=name,
        member_role=None if role is None else role.name.lower(),
        holdings=holdings,
        owed=owed,
        deals=deals,
    )


# ---------------------------------------------------------------------------------------------- audit


def _auditor(request: Request) -> User:
    user, _ = signed_in(request)
    policy.require_sees_all(user.member)
    return user


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request) -> HTMLResponse:
    _auditor(request)
    context = context_of(request)
    context.actions.expire_due()
    with context.actions.reading() as conn:
        _, count = audit.page(conn, member=None, action=None, offset=0, limit=1)
        entries, _ = audit.page(conn, member=None, action=None, offset=max(count - 100, 0), limit=100)
        verified = audit.verify(conn)
    return page(request, "audit.html", entries=list(reversed(entries)), verified=verified)


@router.get("/reconcile", response_class=HTMLResponse)
def reconcile_page(request: Request) -> HTMLResponse:
    user = _auditor(request)
    report = read_reconciliation(context_of(request), user.member)
    return page(request, "reconcile.html", report=report)
