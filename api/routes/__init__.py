"""One router per resource; `ROUTERS` is what the app mounts."""

from __future__ import annotations

from api.routes import (
    actions,
    audit,
    dev,
    documents,
    financing,
    fragments,
    health,
    members,
    portfolio,
    quotes,
    receivables,
    reconcile,
    recourse,
    transactions,
    users,
)

ROUTERS = (
    health.router,
    members.router,
    receivables.router,
    fragments.router,
    quotes.router,
    financing.router,
    portfolio.router,
    recourse.router,
    documents.router,
    dev.router,
    users.router,
    transactions.router,
    actions.router,
    audit.router,
    reconcile.router,
)
