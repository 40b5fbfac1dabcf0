"""The web portal (`/portal`): every party's screens, server-rendered from this process and its context.

`install(app)` mounts the pages (`api.portal.routes`) and the one stylesheet, and keeps the sessions
(`api.portal.sessions`) on the app. Nothing it serves loads anything from another host.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from api.portal import admin, market, routes  # noqa: F401  (their pages register on the router)
from api.portal.sessions import COOKIE, Sessions
from api.portal.web import PREFIX, SignInNeeded, router

__all__ = ["COOKIE", "PREFIX", "Sessions", "install"]


def install(app: FastAPI, sessions: Sessions) -> None:
    app.state.portal_sessions = sessions
    app.include_router(router)
    app.mount(PREFIX + "/static", StaticFiles(directory=Path(__file__).parent / "static"), name="portal-static")

    async def sign_in_first(request: Request, exc: Exception) -> Response:
        return RedirectResponse(PREFIX + "/sign-in", status_code=303)

    app.add_exception_handler(SignInNeeded, sign_in_first)
