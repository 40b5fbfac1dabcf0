"""Trade documents end to end over real HTTP (uvicorn on loopback): the core enterprise uploads its contract and
invoice, issues a receivable with them through `POST /actions`, the supplier pays a tier-2 supplier with a
delivery note, and the auditor downloads every document, re-hashes it and compares the combined hash with the
one the chain itself holds (read from the contract, not from the API). No Python client call drives the flow.

The server runs in this process (its app on the test's context, whose world has an auditor key) on a socket
bound and listening before the server starts: a request made before the server accepts waits in the socket's
backlog, so nothing polls or sleeps."""

from __future__ import annotations

import hashlib
import socket
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn

from api.documents import combined_hash
from api.main import create_app
from api.seed import Party
from chain_client.devchain import now
from tests.test_api.conftest import DAY, Api

CONTRACT = b"%PDF-1.7\n% purchase contract HZ-2026-1207\n%%EOF\n"
INVOICE = b'<?xml version="1.0" encoding="UTF-8"?><Invoice><No>44031900112</No></Invoice>'
NOTE = b"\x89PNG\r\n\x1a\n" + b"delivery note JC-2026-77"


@pytest.fixture
def url(api: Api) -> Iterator[str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(api.context), log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join()
        sock.close()


def bearer(who: Party) -> dict[str, str]:
    return {"Authorization": f"Bearer {who.api_key}"}


def sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def act(http: httpx.Client, who: Party, key: str, kind: str, params: dict[str, Any]) -> dict[str, Any]:
    r = http.post("/actions", headers={**bearer(who), "Idempotency-Key": key}, json={"kind": kind, "params": params})
    assert r.status_code == 201, r.text
    action = r.json()
    assert action["state"] == "executed", action
    return dict(action["result"])


def test_uploaded_documents_go_on_chain_as_one_hash_and_the_auditor_verifies_them(api: Api, url: str) -> None:
    core, tier1, tier2, outsider = api.demo.core, *api.demo.suppliers[:2], api.demo.suppliers[-1]
    with httpx.Client(base_url=url, timeout=60) as http:
        uploaded = []
        for kind, content in (("contract", CONTRACT), ("invoice", INVOICE)):
            r = http.post("/documents", headers=bearer(core), files={"file": ("doc", content)}, data={"kind": kind})
            assert r.status_code == 201, r.text
            uploaded.append(r.json()["sha256"])
        issued = act(
            http,
            core,
            "issue-1207",
            "issue",
            {
                "supplier": tier1.address,
                "face_value": "80000.00",
                "maturity": now(api.scf.w3) + 90 * DAY,
                "documents": uploaded,
            },
        )
        slot, first = issued["slot"], issued["token_id"]
        act(http, tier1, "accept-1207", "accept", {"token_id": first})
        r = http.post("/documents", headers=bearer(tier1), files={"file": ("n", NOTE)}, data={"kind": "delivery_note"})
        assert r.status_code == 201, r.text
        paid = act(
            http,
            tier1,
            "pay-1207",
            "pay_suppliers",
            {"token_id": first, "payments": [{"to": tier2.address, "value": "30000.00"}], "documents": [sha(NOTE)]},
        )
        (payment,) = paid["new_token_ids"]

        # The auditor: list, download, re-hash, and compare with what the contract itself holds.
        auditor = bearer(api.auditor)
        listed = http.get(f"/receivables/{slot}/documents", headers=auditor).json()
        assert listed["matches"] is True
        downloaded = [http.get(f"/documents/{d['sha256']}", headers=auditor) for d in listed["documents"]]
        assert all(d.status_code == 200 for d in downloaded)
        digests = [hashlib.sha256(d.content).hexdigest() for d in downloaded]
        assert sorted(digests) == sorted(uploaded)
        on_chain = api.scf.receivables.receivable(int(slot)).document_hash
        assert combined_hash(digests) == on_chain
        assert listed["on_chain_hash"] == "0x" + on_chain.hex()

        note = http.get(f"/fragments/{payment}/documents", headers=auditor).json()
        assert (note["matches"], [d["sha256"] for d in note["documents"]]) == (True, [sha(NOTE)])
        assert http.get(f"/documents/{sha(NOTE)}", headers=auditor).content == NOTE
        assert http.get(f"/documents/{sha(NOTE)}", headers=bearer(tier2)).content == NOTE  # the payee too

        # Someone with no part in it finds none of it.
        for path in (f"/receivables/{slot}/documents", f"/documents/{uploaded[1]}", f"/fragments/{payment}/documents"):
            assert http.get(path, headers=bearer(outsider)).status_code == 404


def test_an_upload_over_the_cap_is_refused_as_it_streams_in_and_stored_nowhere(api: Api, url: str) -> None:
    sent = 0

    def body() -> Iterator[bytes]:  # a multipart upload of 64 MiB, if read to the end
        nonlocal sent
        yield b'--b\r\nContent-Disposition: form-data; name="kind"\r\n\r\ninvoice\r\n'
        yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="big.pdf"\r\n\r\n%PDF-'
        for _ in range(64):
            sent += 1
            yield bytes(1024 * 1024)

    headers = {**bearer(api.demo.core), "Content-Type": "multipart/form-data; boundary=b"}
    r = httpx.post(f"{url}/documents", content=body(), headers=headers, timeout=60)
    assert (r.status_code, r.json()["error"]) == (413, "PayloadTooLarge")
    assert sent < 32  # refused once the cap (10 MiB and the form's overhead) was passed, not after reading 64
    root = api.context.documents.root
    assert [p for p in root.rglob("*") if p.is_file() and p.name != "documents.sqlite"] == []
