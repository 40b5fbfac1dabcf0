"""One router per resource; `ROUTERS` is what the app mounts."""

from __future__ import annotations

from api.routes import dev, financing, fragments, health, members, portfolio, quotes, receivables, users

ROUTERS = (
    health.router,
    members.router,
    receivables.router,
    fragments.router,
    quotes.router,
    financing.router,
    portfolio.router,
    dev.router,
    users.router,
)
