"""The portal over the app in process (no browser): sign-in and its cookie, CSRF on every form, each page in
both languages, and a voucher issued by the core's form (maker) and accepted on the supplier's page."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from fastapi.testclient import TestClient

from api.seed import Party
from chain_client.devchain import now
from chain_client.ids import slot_of
from chain_client.receivables import ReceivableState
from tests.test_api.conftest import DAY, Api

PDF = b"%PDF-1.7\n% portal test contract\n%%EOF\n"


def browser(api: Api) -> TestClient:
    return TestClient(api.client.app, base_url="http://testserver", follow_redirects=False)


def signed_in(api: Api, party: Party, key: str | None = None) -> TestClient:
    client = browser(api)
    page = client.get("/portal/sign-in")
    pre = re.search(r'name="pre" value="([^"]+)"', page.text)
    assert pre is not None
    r = client.post("/portal/sign-in", data={"api_key": key or party.api_key, "pre": pre.group(1)})
    assert (r.status_code, r.headers["location"]) == (303, "/portal/"), r.text
    return client


def csrf(page_html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page_html)
    assert found is not None
    return found.group(1)


def test_sign_in_sets_an_httponly_strict_cookie_and_a_wrong_key_is_refused(api: Api) -> None:
    client = browser(api)
    page = client.get("/portal/sign-in")
    assert page.status_code == 200
    assert '<label for="api_key">' in page.text
    pre = re.search(r'name="pre" value="([^"]+)"', page.text)
    assert pre is not None
    wrong = client.post("/portal/sign-in", data={"api_key": "nope", "pre": pre.group(1)})
    assert wrong.status_code == 401
    assert "UnknownKey" in wrong.text
    forged = browser(api).post("/portal/sign-in", data={"api_key": api.bank.api_key, "pre": "guess"})
    assert forged.status_code == 403
    assert "InvalidCsrf" in forged.text
    r = client.post("/portal/sign-in", data={"api_key": api.bank.api_key, "pre": pre.group(1)})
    cookie = r.headers["set-cookie"]
    assert "scf_session=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert client.get("/portal/").status_code == 200


def test_pages_need_a_session_and_forms_need_its_csrf_token(api: Api) -> None:
    anonymous = browser(api)
    assert anonymous.get("/portal/").headers["location"] == "/portal/sign-in"
    r = anonymous.post("/portal/issue", data={"csrf": "x"})
    assert (r.status_code, r.headers["location"]) == (303, "/portal/sign-in")  # the guard: no session, no body
    core = signed_in(api, api.demo.core)
    r = core.post("/portal/sign-out", data={"csrf": "not-the-token"})
    assert r.status_code == 403
    assert "InvalidCsrf" in r.text
    home = core.get("/portal/")
    assert core.post("/portal/sign-out", data={"csrf": csrf(home.text)}).status_code == 303
    assert core.get("/portal/").headers["location"] == "/portal/sign-in"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_role_s_home_renders_in_both_languages(api: Api, lang: str) -> None:
    words = {"en": "Sign out", "zh": "退出"}
    for party in (api.demo.core, api.party("Jiangcheng Steel"), api.bank, api.demo.operator, api.auditor):
        client = signed_in(api, party)
        assert client.get(f"/portal/lang/{lang}?next=/portal/").status_code == 303
        home = client.get("/portal/")
        assert home.status_code == 200, (party.name, home.text[:300])
        assert words[lang] in home.text
        assert party.name in home.text
        assert not re.search(r"(src|href)=\"https?://", home.text)  # nothing from another host
    assert browser(api).get("/portal/lang/zh?next=https://evil.example/").headers["location"] == "/portal/"


def test_the_core_issues_with_a_document_and_the_supplier_accepts_on_its_page(api: Api) -> None:
    core, steel, rt = api.demo.core, api.party("Jiangcheng Steel"), api.scf.receivables
    client = signed_in(api, core)
    form = client.get("/portal/issue")
    maturity = now(api.scf.w3) + 60 * DAY
    day = dt.datetime.fromtimestamp(maturity, dt.UTC).strftime("%Y-%m-%d")
    data = {"csrf": csrf(form.text), "supplier": steel.address, "face_value": "1480000.00", "maturity": day}
    bad = client.post("/portal/issue", data={**data, "face_value": "-1"}, files=[("documents", ("c.pdf", PDF))])
    assert bad.status_code == 409
    assert "ValidationError" in bad.text
    assert '<p class="field-error" id="err-face_value">' in bad.text  # under the field it is about
    done = client.post(
        "/portal/issue", data={**data, "kinds": "contract"}, files=[("documents", ("contract.pdf", PDF))]
    )
    assert done.status_code == 200, done.text
    assert "executed on chain" in done.text
    supplier = signed_in(api, steel)
    home = supplier.get("/portal/")
    assert "¥1,480,000.00" in home.text  # exact, never ¥1.4M
    token = re.search(r"/portal/vouchers/(\d+)/accept", home.text)
    assert token is not None
    accepted = supplier.post(f"/portal/vouchers/{token.group(1)}/accept", data={"csrf": csrf(home.text)})
    assert accepted.status_code == 200
    assert "executed on chain" in accepted.text
    assert rt.receivable(slot_of(int(token.group(1)))).state is ReceivableState.ACTIVE
    tree = supplier.get(f"/portal/receivables/{slot_of(int(token.group(1)))}")
    link = re.search(r'href="(/portal/documents/([0-9a-f]{64}))"', tree.text)
    assert link is not None
    assert "combined hash is the one on chain" in tree.text
    opened = supplier.get(link.group(1))
    assert (opened.status_code, opened.content) == (200, PDF)  # the supplier opens the contract it was paid with
    stranger = signed_in(api, api.party("Hongshan Paints"))
    assert stranger.get(link.group(1)).status_code == 404  # a member with no part in it: not found


def test_hostile_ids_and_queries_are_a_clear_404_not_an_error(api: Api) -> None:
    auditor = signed_in(api, api.auditor)
    for slot in ("x", "-1", "9" * 80, "1" * 5000, "0x10"):
        r = auditor.get(f"/portal/receivables/{slot}")
        assert r.status_code == 404, (slot[:20], r.status_code)
        assert "NotFound" in r.text
    for q in ("9" * 90, "0", "<script>alert(1)</script>", "%00"):
        r = auditor.get("/portal/search", params={"q": q})
        assert r.status_code in (303, 404), (q[:20], r.status_code)
        assert "<script>alert" not in r.text  # escaped by the templates
        if r.status_code == 303:
            assert auditor.get(r.headers["location"]).status_code == 404
    too_long = browser(api).post("/portal/sign-in", data={"api_key": "k" * 5000, "pre": "p"})
    assert too_long.status_code == 422
