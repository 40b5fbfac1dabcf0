"""The app factory: `create_app(context)` mounts the routers and the error handlers around one context."""

from __future__ import annotations

from fastapi import FastAPI

from api import docs, portal
from api.actions import recover as recover_actions
from api.context import ApiContext
from api.documents import MAX_UPLOAD_BODY
from api.errors import install_error_handlers
from api.funding import recover
from api.guard import RequestGuard
from api.openapi import install as install_openapi
from api.request_ids import RequestIds
from api.routes import ROUTERS

DESCRIPTION = """
What a lender's system calls on the supply-chain-finance chain: browse receivables and their split trees,
trace a fragment to its confirmation, quote a discount, fund a holder's signed financing request
(idempotently: send an `Idempotency-Key`), watch the portfolio and redeem at maturity.

Authenticate with `Authorization: Bearer <api key>`. Amounts are yuan as decimal strings (`"50000.00"`);
token ids, slots and nonces are decimal strings too (they exceed 2^53, where JavaScript numbers lose digits);
times are unix seconds. Every refusal is `{"error": name, "fields": {...}, "request_id": id}`, named like the
contract's custom error where the chain refused (and then with `"message"`, the first sentence of the error's
NatSpec): 401 no or unknown key, 403 wrong role, 404 unknown id, 409 state conflict, 422 invalid request.

Every response has an `X-Request-ID` header: the one the request sent, if it is 1 to 128 characters of
`A-Z a-z 0-9 . _ : -`, else a new uuid4. A refusal's `request_id` is the same id, and so is the server's log
line for it: quote it when you call support.
"""


def create_app(context: ApiContext) -> FastAPI:
    # /docs and /redoc are served from local files (`api.docs`), not FastAPI's CDN pages.
    app = FastAPI(title="SCF lender API", version="1", description=DESCRIPTION, docs_url=None, redoc_url=None)
    app.state.context = context
    sessions = portal.Sessions()  # the portal's sign-ins; the guard lets its forms through by them
    install_error_handlers(app)
    app.add_middleware(
        RequestGuard,
        known_key=lambda key: context.users.identify(key) is not None,
        known_session=lambda token: sessions.get(token) is not None,
        # uploads (api.documents, the portal's issue and pay forms); every other body 16 KiB
        body_limits={"/documents": MAX_UPLOAD_BODY, "/portal/issue": MAX_UPLOAD_BODY, "/portal/pay": MAX_UPLOAD_BODY},
    )
    # Added last, so outermost: the guard's refusals carry the id too.
    app.add_middleware(RequestIds)
    for router in ROUTERS:
        app.include_router(router)
    portal.install(app, sessions)  # the web portal, over the same context
    install_openapi(app)
    docs.install(app)
    # A previous process may have died between claiming a request and recording its funding.
    recover(context)
    recover_actions(context)  # and between signing an action's transaction and recording its outcome
    return app
