"""The lender API on its own embedded chain, seeded once per session with the demo supply chain
(`api.seed`, the same as `python -m api`) and its six signed requests submitted. Each test gets a snapshot of
that chain (reverted afterwards), its own copy of the event index and of the store as they were right after
seeding, and a TestClient. (Copies, because indexing the seeded history from scratch takes eth-tester about
0.4 s: per test, that would be most of the suite's time.)"""

from __future__ import annotations

import shutil
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3

from api.context import ApiContext, Members
from api.fields import yuan_text
from api.main import create_app
from api.schemas import FinancingRequestPublic
from api.seed import DemoChain, Party, seed_demo, submit_requests
from api.store import RequestStore
from chain_client import ScfClient, accounts_of, connect, deploy_all
from chain_client.chain import new_account, revert_to, snapshot
from chain_client.constants import ZERO_ADDRESS
from chain_client.devchain import now
from chain_client.financing import FinancingRequest
from chain_client.index import EventIndex
from chain_client.membership import Role
from tests.test_api.served import Served

DAY = 86_400

with warnings.catch_warnings():
    # Starlette now prefers the `httpx2` fork for its TestClient; httpx is what this project ships.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")
    from fastapi.testclient import TestClient as TestClient  # re-exported: imported here first, warning filtered


@dataclass
class World:
    w3: Web3
    scf: ScfClient
    demo: DemoChain
    index_file: Path  # the index synced right after seeding and submitting
    store_file: Path  # the store with the demo's requests submitted
    submitted: list[FinancingRequestPublic]
    auditor: Party  # an API key in the auditor's role (reads everything), beside the demo's members

    def members(self) -> Members:
        return Members([*self.demo.members(), self.auditor.config()])


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    w3 = connect()
    operator = accounts_of(w3)[0]
    scf = ScfClient(w3, deploy_all(w3, operator))
    demo = seed_demo(scf, operator)
    folder = tmp_path_factory.mktemp("api-world")
    index = EventIndex(folder / "index.sqlite")
    demo.label(index)
    auditor = Party("Platform auditor", Role.AUDITOR, new_account(w3))
    members = Members([*demo.members(), auditor.config()])
    context = ApiContext(scf, index, RequestStore(folder / "store.sqlite"), members)
    submitted = submit_requests(context, demo)
    context.close()  # checkpoints the index's WAL into its file, so a copy of the file is all of it
    return World(w3, scf, demo, folder / "index.sqlite", folder / "store.sqlite", submitted, auditor)


@dataclass
class Api:
    client: TestClient
    context: ApiContext
    scf: ScfClient
    demo: DemoChain
    submitted: list[FinancingRequestPublic]
    auditor: Party

    @property
    def bank(self) -> Party:
        return self.demo.banks[0]

    @property
    def bank2(self) -> Party:
        return self.demo.banks[1]

    def party(self, name: str) -> Party:
        return next(p for p in self.demo.parties if p.name == name)

    def get(self, path: str, who: Party | None = None, **kwargs: Any) -> Any:
        return self.client.get(path, headers=auth(who), **kwargs)

    def post(self, path: str, who: Party | None = None, *, headers: dict[str, str] | None = None, **kwargs: Any) -> Any:
        return self.client.post(path, headers={**auth(who), **(headers or {})}, **kwargs)

    def fund(self, request_id: int, who: Party, key: str, body: Any = None) -> Any:
        return self.post(f"/financing-requests/{request_id}/fund", who, headers={"Idempotency-Key": key}, json=body)

    def open_request(self, *, for_bank: Party | None = None) -> FinancingRequestPublic:
        """A submitted request that `for_bank` (default: any bank) may fund."""
        allowed = (None, for_bank.address) if for_bank else (None,)
        return next(r for r in self.submitted if r.financier in allowed)

    def cash(self, who: Party) -> int:
        return self.scf.cash.balance_of(who.address)

    def signed(
        self,
        holder: Party,
        token_id: int,
        value: int,
        price: int,
        *,
        nonce: int,
        deadline: int | None = None,
        financier: str | None = None,
        recourse: bool = False,
    ) -> dict[str, Any]:
        """The JSON body of a request `holder` signed, as its own system would send it."""
        request = FinancingRequest(
            token_id=token_id,
            value=value,
            price=price,
            financier=financier or ZERO_ADDRESS,
            recourse=recourse,
            nonce=nonce,
            deadline=now(self.scf.w3) + DAY if deadline is None else deadline,
        )
        signature = self.scf.financing.sign(holder.account, request)
        return {
            "token_id": str(token_id),  # ids are decimal strings on the wire
            "value": yuan_text(value),
            "price": yuan_text(price),
            "financier": financier,
            "recourse": recourse,
            "nonce": str(nonce),
            "deadline": request.deadline,
            "signature": "0x" + signature.hex(),
        }


def auth(who: Party | None) -> dict[str, str]:
    return {} if who is None else {"Authorization": f"Bearer {who.api_key}"}


def refusal(response: Any) -> dict[str, Any]:
    """A refusal's body without its `request_id`, after checking that it is the response's X-Request-ID (the
    rest of the body is what a test pins)."""
    body = dict(response.json())
    assert body.pop("request_id") == response.headers["X-Request-ID"]
    return body


def make_context(world: World, folder: Path, members: Members | None = None) -> ApiContext:
    """A context over copies of the seeded index and store (the chain must be at the seeded state or later)."""
    shutil.copy(world.index_file, folder / "index.sqlite")
    shutil.copy(world.store_file, folder / "store.sqlite")
    index = EventIndex(folder / "index.sqlite")
    store = RequestStore(folder / "store.sqlite")
    return ApiContext(world.scf, index, store, members or world.members())


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """`python -m api` in its own process, shared by the tests over real HTTP (hostile input, Schemathesis)."""
    server = Served.start(tmp_path_factory.mktemp("served"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def api(world: World, tmp_path: Path) -> Iterator[Api]:
    snap = snapshot(world.w3)
    context = make_context(world, tmp_path)
    try:
        with TestClient(create_app(context)) as client:
            yield Api(client, context, world.scf, world.demo, world.submitted, world.auditor)
    finally:
        context.close()
        revert_to(world.w3, snap)
        world.scf.tx.nonces.forget()
