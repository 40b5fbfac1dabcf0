"""`assert_refused`: a contract call is refused with exactly the named error and fields, and nothing changed.

"Nothing changed" is checked on everything the deployment holds, not on a few views a test thought of: the
fingerprint is each contract's storage root, code hash and ether balance, read from the embedded chain's latest
state. A refused transaction may still be mined (the sender's nonce and ether move for gas) and the clock moves,
so the block's state root is no use; but no contract's storage may change. When one does, the failure names the
contract and the storage words that changed (keyed by the hash of their slot, as the trie keys them).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import rlp  # type: ignore[import-untyped]
from eth_utils.address import to_canonical_address
from eth_utils.crypto import keccak
from trie.hexary import HexaryTrie
from trie.iter import NodeIterator

from chain_client import ScfClient
from chain_client.chain import tester_of
from chain_client.exceptions import ContractError

E = TypeVar("E", bound=ContractError)


@dataclass(frozen=True)
class Account:
    storage_root: bytes
    code_hash: bytes
    balance: int


Fingerprint = dict[str, Account]


def fingerprint(scf: ScfClient, extra: Mapping[str, str] | None = None) -> Fingerprint:
    """Every deployed contract's (and every `extra` name → address's) storage root, code hash and balance."""
    chain = tester_of(scf.w3).backend.chain
    state = chain.get_vm(at_header=chain.get_canonical_head()).state
    addresses = {name: c.address for name, c in scf.contracts.items()} | dict(extra or {})
    out: Fingerprint = {}
    for name, address in addresses.items():
        raw = to_canonical_address(address)
        out[name] = Account(
            storage_root=state._account_db._get_storage_root(raw),
            code_hash=keccak(state.get_code(raw)),
            balance=state.get_balance(raw),
        )
    return out


def _storage(scf: ScfClient, root: bytes) -> dict[bytes, int]:
    db = tester_of(scf.w3).backend.chain.chaindb.db
    return {k: rlp.decode(v, sedes=rlp.sedes.big_endian_int) for k, v in NodeIterator(HexaryTrie(db, root)).items()}


def describe_changes(scf: ScfClient, before: Fingerprint, after: Fingerprint) -> list[str]:
    """What differs between two fingerprints, one line per contract field or storage word."""
    lines = []
    for name in sorted(before.keys() | after.keys()):
        was, now = before.get(name), after.get(name)
        if was == now:
            continue
        if was is None or now is None:
            lines.append(f"{name}: {was} → {now}")
            continue
        if was.code_hash != now.code_hash:
            lines.append(f"{name}: code changed")
        if was.balance != now.balance:
            lines.append(f"{name}: balance {was.balance} → {now.balance} wei")
        if was.storage_root != now.storage_root:
            old, new = _storage(scf, was.storage_root), _storage(scf, now.storage_root)
            changed = sorted(k for k in old.keys() | new.keys() if old.get(k, 0) != new.get(k, 0))
            lines.append(f"{name}: {len(changed)} storage word(s) changed")
            lines += [f"  keccak(slot)=0x{k.hex()[:16]}…: {old.get(k, 0)} → {new.get(k, 0)}" for k in changed[:10]]
    return lines


def assert_unchanged(scf: ScfClient, before: Fingerprint, extra: Mapping[str, str] | None = None) -> None:
    after = fingerprint(scf, extra)
    if after != before:
        raise AssertionError(
            "a refused call changed the chain's state:\n" + "\n".join(describe_changes(scf, before, after))
        )


def assert_refused(
    scf: ScfClient,
    error: type[E],
    call: Callable[[], object],
    /,
    *,
    extra: Mapping[str, str] | None = None,
    **fields: Any,
) -> E:
    """Run `call`; assert it raises exactly `error` (not a subclass) whose fields are exactly `fields` (every field
    of the error named; `unittest.mock.ANY` for one the test checks otherwise), and that no contract's state
    changed. `extra` names more contracts to watch (name → address). Returns the error, for further checks."""
    assert issubclass(error, ContractError), error
    named, declared = set(fields), set(error.fields)
    if named != declared:
        raise AssertionError(
            f"assert_refused({error.__name__}): name exactly its fields {error.fields}; "
            f"missing {sorted(declared - named)}, unknown {sorted(named - declared)}"
        )
    before = fingerprint(scf, extra)
    try:
        call()
    except ContractError as exc:
        if type(exc) is not error:
            raise AssertionError(f"expected {error.__name__}, the call raised {exc!r}") from exc
        got = {f: getattr(exc, f) for f in error.fields}
        wrong = {f: (got[f], fields[f]) for f in error.fields if fields[f] != got[f]}
        if wrong:
            detail = "; ".join(f"{f}: got {g!r}, expected {w!r}" for f, (g, w) in wrong.items())
            raise AssertionError(f"{error.__name__} with other fields: {detail}") from exc
        assert_unchanged(scf, before, extra)
        return exc
    raise AssertionError(f"expected {error.__name__}, the call was not refused")
