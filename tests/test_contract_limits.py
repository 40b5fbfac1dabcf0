"""Guards on the committed artifacts (no compiler needed): every contract's runtime code stays well under the
EIP-170 limit, and the packed structs that make the hot paths cheap keep their number of storage words.

The storage layouts come from solc's `storageLayout` output, saved in each artifact by chain_client/build.
When a change here is intended (a struct deliberately grows, a contract is added), update the tables below
in the same commit and say why.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from chain_client.build.compiler import ARTIFACTS
from chain_client.deploy import CONTRACT_NAMES

EIP170_LIMIT = 24_576  # bytes of runtime code (EIP-170)
SIZE_CEILING = 0.90  # fail above 90 % of it: room is left for the next fix

# Every contract with bytecode in the artifacts. A new one must be added here so it is guarded too.
TEST_AND_BENCH = (
    "HostileFinancier",
    "HostileReceiver",
    "TokenIdHarness",
    "RefERC20",
    "RefERC721",
    "RefERC1155",
    "RefSolvERC3525",
)
KNOWN_CONTRACTS = frozenset(CONTRACT_NAMES) | frozenset(TEST_AND_BENCH)

# (contract whose storage holds it, struct name) -> storage words. The struct may be declared elsewhere
# (MemberWord.Account lives in each subscriber, IFinancingDesk.Financing in the desk).
PACKED_STRUCT_WORDS: dict[tuple[str, str], int] = {
    ("ReceivableToken", "Fragment"): 1,  # owner, value, parent, flags: one word per fragment
    # word 0 for moves, word 1 for amounts, word 2 the full document hash (written once at issue, read by views):
    # the slot is now a one-way hash of (debtor, document hash), so the hash can no longer be rebuilt from the
    # slot; any invertible binding would let another member compute and squat a debtor's slot (issue 9, defect 5).
    ("ReceivableToken", "Receivable"): 3,
    ("ReceivableToken", "Account"): 1,  # MemberWord: role, status, fragment count, credit
    ("SettlementToken", "Account"): 1,  # MemberWord: status and the ERC-20 balance in one word
    ("FinancingDesk", "Account"): 1,
    ("FinancingDesk", "Financing"): 2,  # the current size: update it with the desk's rework
    ("FinancingDesk", "Custody"): 1,  # a bought-back fragment's shares: five uint48
    ("FinancingDesk", "Exposure"): 1,
    ("Membership", "Member"): 1,
}


def _artifacts() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(ARTIFACTS.glob("*.json")):
        artifact = json.loads(path.read_text())
        found[artifact["contractName"]] = artifact
    return found


def _runtime_size(artifact: dict[str, Any]) -> int:
    return (len(artifact["deployedBytecode"]) - 2) // 2  # hex after "0x"


def _structs(artifact: dict[str, Any]) -> dict[str, int]:
    """Struct name -> storage words, for every struct in the contract's storage."""
    layout = artifact.get("storageLayout")
    if not layout or "storage" not in layout:
        pytest.fail(f"{artifact['contractName']}: no storageLayout in the artifact: run `make contracts` and commit")
    words: dict[str, int] = {}
    for t in (layout.get("types") or {}).values():
        label = str(t.get("label", ""))
        if label.startswith("struct ") and "members" in t:
            words[label.removeprefix("struct ").rsplit(".", 1)[-1]] = -(-int(t["numberOfBytes"]) // 32)
    return words


def test_the_deployable_contracts_are_exactly_the_known_set() -> None:
    found = set(_artifacts())
    assert found == KNOWN_CONTRACTS, (
        f"new: {sorted(found - KNOWN_CONTRACTS)}, missing: {sorted(KNOWN_CONTRACTS - found)}; "
        "add a new contract to tests/test_contract_limits.py (and its packed structs) so it is guarded"
    )


def test_runtime_code_stays_under_90_percent_of_the_eip170_limit() -> None:
    artifacts = _artifacts()
    rows = []
    over = []
    for name, artifact in sorted(artifacts.items(), key=lambda kv: -_runtime_size(kv[1])):
        size = _runtime_size(artifact)
        share = size / EIP170_LIMIT
        flag = "  <-- over the ceiling" if share > SIZE_CEILING else ""
        rows.append(f"  {name:<16} {size:>6,} bytes  {share:6.1%}{flag}")
        if share > SIZE_CEILING:
            over.append(name)
    assert not over, (
        f"runtime code above {SIZE_CEILING:.0%} of EIP-170's {EIP170_LIMIT:,} bytes: {', '.join(over)}\n"
        + "\n".join(rows)
    )


@pytest.mark.parametrize(("contract", "struct"), sorted(PACKED_STRUCT_WORDS))
def test_packed_struct_keeps_its_storage_words(contract: str, struct: str) -> None:
    structs = _structs(_artifacts()[contract])
    assert struct in structs, f"{contract} no longer stores a struct {struct}: update PACKED_STRUCT_WORDS"
    expected = PACKED_STRUCT_WORDS[(contract, struct)]
    assert structs[struct] == expected, (
        f"{contract}: struct {struct} takes {structs[struct]} storage word(s), expected {expected}. "
        "Every extra word costs 20,000+ gas per new record: repack it, or update PACKED_STRUCT_WORDS and say why"
    )


def test_every_struct_in_storage_is_guarded() -> None:
    unguarded = [
        f"{name}.{struct} ({words} word(s))"
        for name in CONTRACT_NAMES
        for struct, words in sorted(_structs(_artifacts()[name]).items())
        if (name, struct) not in PACKED_STRUCT_WORDS
    ]
    assert not unguarded, f"structs in storage with no word count in PACKED_STRUCT_WORDS: {', '.join(unguarded)}"


def test_the_fragment_count_is_the_low_64_bits_of_the_account_word() -> None:
    """ReceivableStorage._addToCount adds to the whole account word to change the count: it relies on this."""
    layout = _artifacts()["ReceivableToken"]["storageLayout"]
    (account,) = (t for t in layout["types"].values() if str(t.get("label", "")).endswith(".Account"))
    first = account["members"][0]
    assert (first["label"], first["slot"], first["offset"], layout["types"][first["type"]]["numberOfBytes"]) == (
        "fragments",
        "0",
        0,
        "8",
    )
