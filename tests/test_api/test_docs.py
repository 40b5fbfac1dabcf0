"""/docs and /redoc work offline: every script, style sheet and icon they load is served by the API itself
(from the pinned `fastapi-offline` package), none from a CDN."""

from __future__ import annotations

import re

import pytest

from tests.test_api.conftest import Api

# Where a page names a URL it loads or calls: src/href attributes and the quoted URLs in its inline script.
URL = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|(?:url|Url)\s*[:=]\s*["']([^"']+)["']""")
TYPES = {".js": "javascript", ".css": "text/css", ".png": "image/png"}


def loaded_urls(html: str) -> list[str]:
    return [a or b for a, b in URL.findall(html)]


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_docs_pages_load_nothing_from_another_host(api: Api, page: str) -> None:
    r = api.client.get(page)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert re.findall(r"https?://[^\s\"'<>)]+", r.text) == []  # not even a link to another host
    assets = [u for u in loaded_urls(r.text) if u.startswith("/docs-assets/")]
    assert len(assets) >= 2, loaded_urls(r.text)
    for url in assets:
        asset = api.client.get(url)
        assert asset.status_code == 200, url
        kind = next(t for ext, t in TYPES.items() if url.endswith(ext))
        assert kind in asset.headers["content-type"], (url, asset.headers["content-type"])
        assert len(asset.content) > 1000, url


def test_swagger_ui_loads_its_bundle_and_style_from_this_server_and_the_schema_from_it_too(api: Api) -> None:
    html = api.client.get("/docs").text
    urls = loaded_urls(html)
    assert "/docs-assets/swagger-ui-bundle.js" in urls
    assert "/docs-assets/swagger-ui.css" in urls
    assert "/openapi.json" in urls
    assert '"validatorUrl": null' in html  # no badge fetched from a public validator
    assert api.client.get("/docs/oauth2-redirect").status_code == 200


def test_the_docs_assets_need_no_key_and_are_not_in_the_schema(api: Api) -> None:
    assert api.client.get("/docs-assets/swagger-ui.css").status_code == 200
    assert api.client.get("/docs-assets/missing.js").status_code == 404
    paths = api.client.get("/openapi.json").json()["paths"]
    assert not [p for p in paths if p.startswith(("/docs", "/redoc"))]
