"""Everything a request needs, built once per process: the chain client, the event index (kept in step with
the chain), the request store and the members behind the API keys."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address

from api.actions import Actions
from api.chain import chain_lock, is_development
from api.documents import DocumentStore
from api.errors import ApiProblem
from api.settings import MemberConfig
from api.store import RequestStore
from api.users import Users
from chain_client.client import ScfClient
from chain_client.index import EventIndex, Indexer
from chain_client.membership import Role
from chain_client.pricing import DayCount


@dataclass(frozen=True)
class Member:
    """The consortium member an API key speaks for."""

    name: str
    role: Role
    address: str
    account: LocalAccount | None  # present when the API may sign this member's transactions

    def signer(self) -> LocalAccount:
        if self.account is None:
            raise ApiProblem(403, "NoSigningKey", {"account": self.address, "detail": "no signing key configured"})
        return self.account

    @classmethod
    def of(cls, config: MemberConfig) -> Member:
        account: LocalAccount | None = None
        if config.private_key is not None:
            account = Account.from_key(config.private_key.get_secret_value())
        address = account.address if account is not None else to_checksum_address(str(config.address))
        return cls(config.name, config.role, address, account)


def _digest(api_key: str) -> bytes:
    # Keys are looked up by their hash: the table holds no key text, and a lookup's timing says nothing
    # useful about how close a guess came.
    return hashlib.sha256(api_key.encode()).digest()


class Members:
    def __init__(self, configs: Iterable[MemberConfig]) -> None:
        self._by_key: dict[bytes, Member] = {}
        for config in configs:
            self._by_key[_digest(config.api_key.get_secret_value())] = Member.of(config)

    def by_key(self, api_key: str) -> Member | None:
        return self._by_key.get(_digest(api_key))

    def signer_for(self, address: str) -> LocalAccount | None:
        """The signing key held for `address`, if any member with that account has one."""
        for member in self._by_key.values():
            if member.address == address and member.account is not None:
                return member.account
        return None

    def __iter__(self) -> Iterator[Member]:
        return iter(self._by_key.values())


@dataclass(frozen=True)
class IndexView:
    """The index right after a sync, and the chain time it was synced to (the API's idea of now)."""

    index: EventIndex
    now: int


class ApiContext:
    def __init__(
        self,
        scf: ScfClient,
        index: EventIndex,
        store: RequestStore,
        members: Members,
        *,
        day_count: DayCount = DayCount.ACT_360,
        start_block: int | None = None,
        documents: DocumentStore | None = None,
    ) -> None:
        self.scf = scf
        self.index = index
        self.store = store
        self.members = members
        # Trade documents: by default a directory next to the store's database (`api.sqlite` → `api.documents/`).
        self.documents = documents or DocumentStore(Path(store.path).with_suffix(".documents"))
        self.users = Users(store.path, members)  # the members' users, beside the store's tables
        self.actions = Actions(store.path)  # maker-checker actions and the audit trail (api.actions, api.audit)
        self.day_count = day_count
        self.chain_lock = chain_lock(scf.w3)
        self.development = is_development(scf.w3)
        self.indexer = Indexer(index, scf.w3, scf.contracts, start_block=start_block)
        # One sync at a time: two overlapping syncs would both apply the same new blocks to the projection.
        self._sync_lock = threading.Lock()
        self._synced_from = float("-inf")  # when the last successful sync started (monotonic clock)
        # One funding at a time per financier: its allowance top-up and the funding must not interleave
        # with another of its fundings.
        # Re-entrant: an action that funds (`api.actions`, kind `fund`) holds its member's lock and calls the
        # funding path, which takes the same lock.
        self._member_locks: dict[str, threading.RLock] = {}
        self._locks_lock = threading.Lock()

    def member_lock(self, address: str) -> threading.RLock:
        with self._locks_lock:
            return self._member_locks.setdefault(address, threading.RLock())

    def sync(self) -> None:
        """Bring the index up to the chain as it was when this call arrived. Concurrent readers share syncs:
        one that started after this call arrived has seen every block this call could ask for, so a call
        queued behind it returns at once instead of syncing again (ten readers cost one sync, not ten)."""
        arrived = time.monotonic()
        with self._sync_lock:
            if self._synced_from >= arrived:
                return
            started = time.monotonic()
            self.indexer.sync()
            self._synced_from = started

    @contextmanager
    def read(self) -> Iterator[IndexView]:
        """Sync the index with the chain, then read it with no sync writing underneath."""
        self.sync()
        with self.index.reading() as index:
            yield IndexView(index, index.synced_time or 0)

    def close(self) -> None:
        self.index.close()
