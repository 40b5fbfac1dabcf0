"""/docs (Swagger UI) and /redoc from files this server serves itself, so the docs work without internet.

FastAPI's own pages load their scripts from a CDN: offline, /docs was blank. The files come from the
`fastapi-offline` package (pinned in requirements.lock: the Swagger UI and ReDoc versions move only with it),
mounted at `ASSETS`; the pages are FastAPI's, pointed at them. Swagger UI's validator badge is off: it would
send the schema to a public validator."""

from __future__ import annotations

from importlib.resources import files

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = "/docs-assets"
OAUTH2_REDIRECT = "/docs/oauth2-redirect"
FILES = files("fastapi_offline") / "static"


def install(app: FastAPI) -> None:
    """Serve /docs, its OAuth2 redirect page and /redoc. The app is made with `docs_url=None, redoc_url=None`."""
    app.mount(ASSETS, StaticFiles(directory=str(FILES)), name="docs-assets")
    assert app.openapi_url is not None

    def local(request: Request, path: str) -> str:
        return f"{request.scope.get('root_path', '')}{path}"

    @app.get("/docs", include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=local(request, str(app.openapi_url)),
            title=f"{app.title} - Swagger UI",
            oauth2_redirect_url=local(request, OAUTH2_REDIRECT),
            swagger_js_url=local(request, f"{ASSETS}/swagger-ui-bundle.js"),
            swagger_css_url=local(request, f"{ASSETS}/swagger-ui.css"),
            swagger_favicon_url=local(request, f"{ASSETS}/favicon.png"),
            swagger_ui_parameters={"validatorUrl": None},
        )

    @app.get(OAUTH2_REDIRECT, include_in_schema=False)
    def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    def redoc(request: Request) -> HTMLResponse:
        return get_redoc_html(
            openapi_url=local(request, str(app.openapi_url)),
            title=f"{app.title} - ReDoc",
            redoc_js_url=local(request, f"{ASSETS}/redoc.standalone.js"),
            redoc_favicon_url=local(request, f"{ASSETS}/favicon.png"),
            with_google_fonts=False,
        )
