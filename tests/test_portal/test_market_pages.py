"""The portal's financing and operator pages over the app in process: a supplier quotes and offers a piece of a
voucher, the bank finds it on the market with its filters, confirms the price and funds it, the position and
the exposure appear in its portfolio; every other page renders for its roles in both languages; the operator
freezes a voucher with a reason and sees it listed."""

from __future__ import annotations

import re

import pytest

from api.seed import Party
from chain_client.ids import slot_of
from tests.test_api.conftest import Api
from tests.test_portal.test_pages import browser, csrf, signed_in

PAGES = {
    "core": ["/portal/", "/portal/issue", "/portal/approvals"],
    "supplier": ["/portal/", "/portal/pay", "/portal/offers", "/portal/approvals"],
    "bank": ["/portal/", "/portal/market", "/portal/portfolio", "/portal/offers", "/portal/approvals"],
    "operator": ["/portal/", "/portal/admin", "/portal/audit", "/portal/reconcile"],
    "auditor": ["/portal/", "/portal/admin", "/portal/audit", "/portal/reconcile"],
}
LABELLED = re.compile(r'<(input|select)(?![^>]*type="(hidden|checkbox)")[^>]*\bid="([^"]+)"')


def _who(api: Api, role: str) -> Party:
    return {
        "core": api.demo.core,
        "supplier": api.party("Jiangcheng Steel"),
        "bank": api.bank,
        "operator": api.demo.operator,
        "auditor": api.auditor,
    }[role]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_page_of_every_role_renders_with_labels_and_nothing_from_elsewhere(api: Api, lang: str) -> None:
    for role, pages in PAGES.items():
        client = signed_in(api, _who(api, role))
        client.get(f"/portal/lang/{lang}")
        for path in pages:
            r = client.get(path)
            assert r.status_code == 200, (role, path, r.text[:300])
            assert not re.search(r"(src|href|action)=\"(https?:)?//", r.text), (role, path)
            for _, _, field in LABELLED.findall(r.text):  # every visible input has its label
                assert f'for="{field}"' in r.text, (role, path, field)


def _holding(api: Api, party: Party) -> int:
    home = signed_in(api, party).get("/portal/")
    found = re.search(r'href="/portal/offer/(\d+)"', home.text)
    assert found is not None, "the supplier holds an active voucher it may offer"
    return int(found.group(1))


def test_a_supplier_quotes_and_offers_and_the_bank_confirms_and_funds_on_its_pages(api: Api) -> None:
    steel = api.party("Jiangcheng Steel")
    token_id = _holding(api, steel)
    supplier = signed_in(api, steel)
    form = supplier.get(f"/portal/offer/{token_id}")
    data = {"csrf": csrf(form.text), "value": "10000.00", "rate": "4.5", "days_open": "7", "step": "quote"}
    quoted = supplier.post(f"/portal/offer/{token_id}", data=data)
    assert quoted.status_code == 200, quoted.text
    price = re.search(r'id="quoted-price">¥([\d,]+\.\d\d)<', quoted.text)
    assert price is not None
    assert "4.50%" in quoted.text
    bad = supplier.post(f"/portal/offer/{token_id}", data={**data, "rate": "lots"})
    assert bad.status_code == 422
    assert '<p class="field-error" id="err-rate">' in bad.text
    offered = supplier.post(f"/portal/offer/{token_id}", data={**data, "step": "offer"})
    assert offered.status_code == 200, offered.text
    assert "executed on chain" in offered.text
    mine = supplier.get("/portal/offers")
    assert f"¥{price.group(1)}" in mine.text

    bank = signed_in(api, api.bank)
    market = bank.get("/portal/market", params={"min_value": "10000", "max_value": "10000.00", "min_rate": "4.4"})
    ids = re.findall(r'href="/portal/market/(\d+)"', market.text)
    assert len(ids) == 1, market.text
    assert (
        bank.get("/portal/market", params={"min_rate": "4.6", "max_value": "10000"}).text.count("/portal/market/") == 0
    )
    review = bank.get(f"/portal/market/{ids[0]}")
    assert f"¥{price.group(1)}" in review.text
    cash_before = api.cash(steel)
    wrong = bank.post(f"/portal/market/{ids[0]}/fund", data={"csrf": csrf(review.text), "price": "1.00"})
    assert wrong.status_code == 409
    assert "PriceMismatch" in wrong.text
    assert api.cash(steel) == cash_before  # nothing half done
    paid = int(price.group(1).replace(",", "").replace(".", ""))
    funded = bank.post(
        f"/portal/market/{ids[0]}/fund", data={"csrf": csrf(review.text), "price": f"{paid // 100}.{paid % 100:02d}"}
    )
    assert funded.status_code == 200, funded.text
    assert "executed on chain" in funded.text
    assert api.cash(steel) == cash_before + paid
    book = bank.get("/portal/portfolio")
    assert f"¥{price.group(1)}" in book.text
    assert "<svg" in book.text  # the exposure chart
    assert "<title>" in book.text  # with exact figures on hover


def test_the_operator_freezes_a_voucher_with_a_reason_and_the_auditor_sees_but_cannot_act(api: Api) -> None:
    steel = api.party("Jiangcheng Steel")
    token_id = _holding(api, steel)
    operator = signed_in(api, api.demo.operator)
    admin = operator.get("/portal/admin")
    r = operator.post(
        "/portal/admin/freeze", data={"csrf": csrf(admin.text), "token_id": str(token_id), "reason": "court order 7"}
    )
    assert r.status_code == 200, r.text
    assert "court order 7" in r.text
    assert api.scf.receivables.fragment(token_id).frozen
    refused = operator.post("/portal/admin/set_max_tenor", data={"csrf": csrf(admin.text), "days": "0"})
    assert refused.status_code == 409
    auditor = signed_in(api, api.auditor)
    page = auditor.get("/portal/admin")
    assert page.status_code == 200
    assert 'action="/portal/admin/freeze"' not in page.text
    assert slot_of(token_id) > 0
    assert browser(api).get("/portal/admin").headers["location"] == "/portal/sign-in"


def test_search_finds_a_receivable_by_voucher_id_slot_or_document_hash_and_a_member_by_address(api: Api) -> None:
    steel = api.party("Jiangcheng Steel")
    token_id = _holding(api, steel)
    slot = slot_of(token_id)
    document_hash = api.scf.receivables.receivable(slot).document_hash
    auditor = signed_in(api, api.auditor)
    for q in (str(token_id), str(slot), "0x" + bytes(document_hash).hex()):
        r = auditor.get("/portal/search", params={"q": q})
        assert (r.status_code, r.headers.get("location")) == (303, f"/portal/receivables/{slot}"), q
    r = auditor.get("/portal/search", params={"q": steel.address.lower()})
    assert r.headers["location"] == f"/portal/members/{steel.address}"
    member = auditor.get(r.headers["location"])
    assert member.status_code == 200
    assert str(token_id) in member.text
    assert "Jiangcheng Steel" in member.text
    path = auditor.get(f"/portal/fragments/{token_id}")
    assert path.status_code == 200
    assert "Huazhong Heavy Industry" in path.text  # the path goes back to the core that issued it
    assert auditor.get("/portal/fragments/12x").status_code == 404
    other = signed_in(api, api.party("Hanyang Castings"))
    assert other.get(f"/portal/members/{steel.address}").status_code == 404  # not its own: not found
    assert other.get(f"/portal/receivables/{slot}").status_code in (200, 404)


def test_the_tree_picture_is_drawn_for_those_who_see_the_whole_tree_only(api: Api) -> None:
    steel = api.party("Jiangcheng Steel")
    slot = slot_of(_holding(api, steel))
    for party in (api.demo.core, api.auditor):
        r = signed_in(api, party).get(f"/portal/receivables/{slot}")
        assert r.text.count('<svg class="tree"') == 1, party.name
        assert "Jiangcheng Steel" in r.text
    partial = signed_in(api, steel).get(f"/portal/receivables/{slot}")
    assert partial.status_code == 200
    assert '<svg class="tree"' not in partial.text  # a holder sees only its part, as a list


def test_pay_my_suppliers_previews_what_remains_then_pays_with_the_trade_s_document(api: Api) -> None:
    steel, castings = api.party("Jiangcheng Steel"), api.party("Hanyang Castings")
    token_id = _holding(api, steel)
    before = api.scf.receivables.fragment(token_id).value
    supplier = signed_in(api, steel)
    form = supplier.get("/portal/pay")
    data = {"csrf": csrf(form.text), "token_id": str(token_id), "to": [castings.address], "value": ["12345.67"]}
    order = [("documents", ("order.pdf", b"%PDF-1.7\n% purchase order 88\n%%EOF\n"))]
    preview = supplier.post("/portal/pay", data={**data, "step": "preview"}, files=order)
    assert preview.status_code == 200, preview.text
    remains = re.search(r'id="remains">([^<]+)<', preview.text)
    assert remains is not None
    assert remains.group(1) == f"¥{(before - 1_234_567) // 100:,}.{(before - 1_234_567) % 100:02d}"
    assert api.scf.receivables.fragment(token_id).value == before  # a preview moves nothing
    sha = re.search(r'name="doc" value="([0-9a-f]{64})"', preview.text)
    assert sha is not None
    paid = supplier.post("/portal/pay", data={**data, "step": "pay", "doc": sha.group(1)})
    assert paid.status_code == 200, paid.text
    assert "executed on chain" in paid.text
    assert api.scf.receivables.fragment(token_id).value == before - 1_234_567
    bad = supplier.post("/portal/pay", data={**data, "value": ["12.345"], "step": "preview"})
    assert bad.status_code == 422
    assert '<p class="field-error" id="err-value-0">' in bad.text  # said under the field it is about
    wrong = supplier.post("/portal/pay", data={**data, "to": ["0x12"], "step": "pay"})
    assert wrong.status_code == 409
    assert 'id="err-to-0"' in wrong.text  # the API's own validation, under the payee's field


def test_hostile_form_values_on_the_new_pages_are_a_clear_4xx_and_never_an_error(api: Api) -> None:
    steel = api.party("Jiangcheng Steel")
    token_id = _holding(api, steel)
    supplier = signed_in(api, steel)
    token = csrf(supplier.get("/portal/").text)
    for rate in ("1e999999", "NaN", "-Infinity", "9" * 12, "-5"):
        r = supplier.post(f"/portal/offer/{token_id}", data={"csrf": token, "value": "1.00", "rate": rate})
        assert r.status_code in (409, 422), (rate, r.status_code)
    for value in ("1e30", "0", "-1", "x", "1.001"):
        r = supplier.post(f"/portal/offer/{token_id}", data={"csrf": token, "value": value, "rate": "3"})
        assert r.status_code in (404, 409, 422), (value, r.status_code)
    for tid in ("9" * 80, "0", "abc"):
        r = supplier.post(f"/portal/offer/{tid}", data={"csrf": token, "value": "1.00", "rate": "3"})
        assert r.status_code in (404, 409, 422), (tid, r.status_code)
    assert supplier.post("/portal/recourse/1/steal", data={"csrf": token}).status_code == 404
    assert supplier.post("/portal/offers/99999999999999999999/cancel", data={"csrf": token}).status_code == 200
    bank = signed_in(api, api.bank)
    token = csrf(bank.get("/portal/").text)
    for query in ({"matures_by": "2027-13-45"}, {"min_value": "lots"}, {"min_rate": "1e999999"}, {"debtor": "<x>"}):
        r = bank.get("/portal/market", params=query)
        assert r.status_code == 200, query  # a filter it cannot read is said in words; the market still shows
    for rid in ("0", "-1", "9" * 30, "x"):
        r = bank.post(f"/portal/market/{rid}/fund", data={"csrf": token, "price": "1.00"})
        assert r.status_code in (404, 409, 422), (rid, r.status_code)
    r = bank.post("/portal/exposure", data={"csrf": token, "debtor": "0xnot", "limit": "1e40"})
    assert r.status_code == 409
    operator = signed_in(api, api.demo.operator)
    token = csrf(operator.get("/portal/").text)
    for verb, data in (
        ("set_max_tenor", {"days": "999999"}),
        ("admit", {"account": "0x" + "0" * 40, "role": "emperor"}),
        ("freeze", {"token_id": "1" * 80, "reason": "r" * 200}),
        ("mint", {"to": api.demo.core.address, "amount": "-5"}),
    ):
        r = operator.post(f"/portal/admin/{verb}", data={"csrf": token, **data})
        assert r.status_code in (409, 422), (verb, r.status_code)
    assert operator.post("/portal/admin/selfdestruct", data={"csrf": token}).status_code == 404
