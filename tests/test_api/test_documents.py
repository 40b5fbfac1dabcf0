"""Trade documents: uploads checked by their bytes and stored content-addressed (hostile ones refused and stored
nowhere), the combined hash an auditor recomputes, links that only the chain's hash admits, and downloads
only for those who may see what a document belongs to."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, BinaryIO, cast

import pytest
from eth_utils.crypto import keccak

from api.documents import MAX_DOCUMENT, MAX_UPLOAD_BODY, DocumentStore, Kind, combined_hash, sniff
from chain_client.devchain import now
from tests.test_api.conftest import DAY, Api, refusal

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(13)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(20)
XML = b'<?xml version="1.0" encoding="UTF-8"?><Invoice><No>044031900111</No></Invoice>'


def upload(api: Api, who: Any, content: bytes, kind: str = "invoice", *, content_type: str = "application/pdf") -> Any:
    return api.post("/documents", who, files={"file": ("scan.pdf", content, content_type)}, data={"kind": kind})


def stored_files(api: Api) -> list[Path]:
    root = api.context.documents.root
    return sorted(p for p in (root / "files").rglob("*") if p.is_file()) + sorted((root / "tmp").iterdir())


def sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def test_an_upload_is_stored_by_the_hash_of_its_bytes_and_its_type_read_from_them(api: Api) -> None:
    core = api.demo.core
    r = upload(api, core, PNG, "delivery_note", content_type="application/pdf")  # the client's type is not believed
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["sha256"] == sha(PNG)
    assert (body["kind"], body["media_type"], body["size"]) == ("delivery_note", "image/png", len(PNG))
    assert r.headers["Location"] == f"/documents/{sha(PNG)}"
    again = upload(api, core, PNG, "delivery_note")
    assert (again.status_code, again.json()["sha256"]) == (200, sha(PNG))  # same bytes, same document
    got = api.get(f"/documents/{sha(PNG)}", core)
    assert got.status_code == 200
    assert got.content == PNG
    assert got.headers["content-type"] == "image/png"
    assert got.headers["x-content-type-options"] == "nosniff"
    assert stored_files(api) == [api.context.documents.path_of(sha(PNG))]


@pytest.mark.parametrize(
    ("content", "media"), [(PDF, "application/pdf"), (JPEG, "image/jpeg"), (XML, "application/xml")]
)
def test_pdf_jpeg_and_xml_are_accepted(api: Api, content: bytes, media: str) -> None:
    r = upload(api, api.demo.suppliers[0], content, "contract")
    assert (r.status_code, r.json()["media_type"]) == (201, media)


ZIP_BOMB_HEAD = b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + b"\x00" * 20  # never opened: just not an accepted type


@pytest.mark.parametrize(
    ("content", "status", "error"),
    [
        (b"", 422, "EmptyDocument"),
        (b"hello, this is plain text", 415, "UnsupportedDocumentType"),
        (ZIP_BOMB_HEAD + bytes(4096), 415, "UnsupportedDocumentType"),
        (b"MZ\x90\x00" + bytes(100), 415, "UnsupportedDocumentType"),  # an executable named scan.pdf
        (b"%PDF-" + bytes(MAX_DOCUMENT - 4), 413, "DocumentTooLarge"),  # one byte over, refused by the route
    ],
)
def test_hostile_uploads_are_refused_by_name_and_stored_nowhere(
    api: Api, content: bytes, status: int, error: str
) -> None:
    r = upload(api, api.demo.core, content)
    assert r.status_code == status, r.text
    assert refusal(r)["error"] == error
    assert stored_files(api) == []
    assert api.context.documents.get(sha(content)) is None


def test_a_body_over_the_upload_cap_is_refused_before_the_route_and_stored_nowhere(api: Api) -> None:
    r = upload(api, api.demo.core, b"%PDF-" + bytes(MAX_UPLOAD_BODY))
    assert (r.status_code, refusal(r)["error"]) == (413, "PayloadTooLarge")
    assert stored_files(api) == []


def test_a_document_at_the_limit_is_accepted(api: Api) -> None:
    content = b"%PDF-" + bytes(MAX_DOCUMENT - 5)
    r = upload(api, api.demo.core, content)
    assert (r.status_code, r.json()["size"]) == (201, MAX_DOCUMENT)


def test_deeply_bracketed_bytes_in_an_upload_are_not_json(api: Api) -> None:
    content = b"%PDF-" + b"[" * 10_000  # the JSON nesting guard is for JSON bodies only
    assert upload(api, api.demo.core, content).status_code == 201


@pytest.mark.parametrize(
    ("data", "files", "field"),
    [
        ({"kind": "receipt"}, {"file": ("a.pdf", PDF)}, "body.kind"),
        ({}, {"file": ("a.pdf", PDF)}, "body.kind"),
        ({"kind": "invoice"}, None, "body.file"),
    ],
)
def test_a_missing_or_unknown_kind_or_file_is_422(api: Api, data: Any, files: Any, field: str) -> None:
    r = api.post("/documents", api.demo.core, data=data, files=files or {"other": ("x", b"1")})
    assert r.status_code == 422
    assert field in refusal(r)["fields"]


def test_the_auditor_uploads_nothing_and_a_stranger_downloads_nothing(api: Api) -> None:
    auditor = api.auditor
    assert upload(api, auditor, PDF).status_code == 403
    upload(api, api.demo.core, PDF)
    stranger = api.demo.suppliers[-1]
    r = api.get(f"/documents/{sha(PDF)}", stranger)  # not linked, not its upload: as if it did not exist
    assert (r.status_code, refusal(r)) == (404, {"error": "UnknownDocument", "fields": {"sha256": sha(PDF)}})
    assert api.get(f"/documents/{'0' * 64}", stranger).status_code == 404
    assert api.get("/documents/ABC", stranger).status_code == 422


def test_the_combined_hash_is_keccak_over_the_sorted_unique_digests() -> None:
    a, b, c = sha(PDF), sha(PNG), sha(XML)
    expected = keccak(b"".join(sorted(bytes.fromhex(x) for x in (a, b, c))))
    assert combined_hash([a, b, c]) == combined_hash([c, a, b, a]) == combined_hash(["0x" + b.upper(), a, c])
    assert combined_hash([a, b, c]) == expected
    assert combined_hash([a]) == keccak(bytes.fromhex(a))
    with pytest.raises(ValueError, match="at least one document"):
        combined_hash([])
    with pytest.raises(ValueError, match="not a SHA-256 digest"):
        combined_hash(["xyz"])
    assert sniff(b"\xef\xbb\xbf<?xml") == "application/xml"


def test_a_receivable_and_a_payment_carry_their_documents_checked_against_the_chain(api: Api) -> None:
    core, t1, t2, outsider = api.demo.core, *api.demo.suppliers[:2], api.demo.suppliers[-1]
    docs = {"contract": PDF, "invoice": XML, "delivery_note": JPEG}
    for kind, content in docs.items():
        assert upload(api, core, content, kind).status_code == 201
    hashes = [sha(c) for c in docs.values()]
    rt = api.scf.receivables
    issued = rt.issue(core.account, t1.address, 50_000_00, now(api.scf.w3) + 60 * DAY, combined_hash(hashes))
    rt.accept(t1.account, issued.token_id)
    slot = issued.slot

    wrong = api.post(f"/receivables/{slot}/documents", core, json={"documents": hashes[:2]})
    assert (wrong.status_code, refusal(wrong)["error"]) == (409, "DocumentsDoNotMatch")
    linked = api.post(f"/receivables/{slot}/documents", core, json={"documents": hashes})
    assert linked.status_code == 200, linked.text
    on_chain = "0x" + combined_hash(hashes).hex()
    for who in (core, t1, api.auditor, api.demo.operator):
        r = api.get(f"/receivables/{slot}/documents", who)
        assert r.status_code == 200, (who.name, r.text)
        body = r.json()
        assert (body["combined_hash"], body["on_chain_hash"], body["matches"]) == (on_chain, on_chain, True)
        assert sorted(d["kind"] for d in body["documents"]) == ["contract", "delivery_note", "invoice"]
        assert api.get(f"/documents/{sha(XML)}", who).content == XML
    assert api.get(f"/receivables/{slot}/documents", outsider).status_code == 404
    assert api.get(f"/documents/{sha(XML)}", outsider).status_code == 404

    # Tier 1 pays tier 2 with a piece, the delivery note of that trade as the split's memo.
    note = PNG
    assert upload(api, t1, note, "delivery_note").status_code == 201
    memo = combined_hash([sha(note)])
    (paid,) = rt.split(t1.account, issued.token_id, [(t2.address, 10_000_00)], memo).new_token_ids
    assert api.post(f"/fragments/{paid}/documents", t1, json={"documents": [sha(note)]}).status_code == 200
    body = api.get(f"/fragments/{paid}/documents", t2).json()
    assert (body["matches"], [d["sha256"] for d in body["documents"]]) == (True, [sha(note)])
    assert api.get(f"/documents/{sha(note)}", t2).content == note  # the receiver sees its payment's documents
    assert api.get(f"/documents/{sha(XML)}", t2).content == XML  # and the receivable's, which it now holds part of
    assert api.get(f"/fragments/{paid}/documents", outsider).status_code == 404
    assert api.get(f"/documents/{sha(note)}", outsider).status_code == 404
    first = api.get(f"/fragments/{issued.token_id}/documents", t1).json()
    assert (first["matches"], len(first["documents"])) == (True, 3)  # the first fragment's are the receivable's
    r = api.post(f"/fragments/{paid}/documents", t2, json={"documents": [sha(note)]})
    assert r.status_code == 404  # t2 did not upload the note: for it, a document it cannot link does not exist


def test_an_upload_that_fails_half_way_leaves_nothing(tmp_path: Path) -> None:
    store = DocumentStore(tmp_path / "docs")

    class Broken:
        """A client that sends the start of a PDF, then goes away."""

        calls = 0

        def read(self, size: int = -1) -> bytes:
            self.calls += 1
            if self.calls > 2:
                raise ConnectionResetError("the client went away")
            return b"%PDF-" + bytes(1000)

    with pytest.raises(ConnectionResetError):
        store.put(cast(BinaryIO, Broken()), Kind.INVOICE, "0x" + "11" * 20)
    assert [p for p in (tmp_path / "docs").rglob("*") if p.is_file() and p.name != "documents.sqlite"] == []


def test_the_same_bytes_from_two_members_are_one_document_both_may_download(api: Api) -> None:
    core, tier1, outsider = api.demo.core, api.demo.suppliers[0], api.demo.suppliers[-1]
    assert upload(api, core, PDF).status_code == 201
    assert upload(api, tier1, PDF, "contract").status_code == 200  # stored once; its first kind stays
    for who in (core, tier1):
        assert api.get(f"/documents/{sha(PDF)}", who).content == PDF
    assert api.get(f"/documents/{sha(PDF)}", outsider).status_code == 404
    assert len(stored_files(api)) == 1


def test_a_viewer_and_a_suspended_members_users_upload_nothing_but_still_read(api: Api) -> None:
    core, tier1 = api.demo.core, api.demo.suppliers[0]
    made = api.post("/users", core, json={"name": "Clerk who only looks", "duty": "viewer"})
    assert made.status_code == 201, made.text
    viewer = {"Authorization": f"Bearer {made.json()['api_key']}"}
    files, data = {"file": ("a.pdf", PDF)}, {"kind": "invoice"}
    r = api.client.post("/documents", headers=viewer, files=files, data=data)
    assert (r.status_code, refusal(r)["error"]) == (403, "DutyNotAllowed")
    assert api.client.get(f"/receivables/{api.demo.slots[0]}/documents", headers=viewer).status_code == 200
    api.scf.membership.suspend(api.demo.operator.account, tier1.address)
    r = upload(api, tier1, PDF)
    assert (r.status_code, refusal(r)["error"]) == (403, "MemberSuspended")
    assert stored_files(api) == []
