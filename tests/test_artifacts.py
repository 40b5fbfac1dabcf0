"""The committed artifacts and generated error classes must match the sources, so the client never runs
stale bytecode. Rebuild with `make contracts` (or `python -m chain_client.build`) and commit."""

from __future__ import annotations

import json

from chain_client.build.compiler import ARTIFACTS, ERRORS_MODULE, source_hash
from chain_client.build.errors_codegen import render
from chain_client.deploy import CONTRACT_NAMES


def test_committed_artifacts_match_the_contract_sources() -> None:
    stamp = (ARTIFACTS / "_source_hash.txt").read_text().strip()
    assert stamp == source_hash(), "contracts changed since the artifacts were built: run `make contracts`"


def test_every_deployable_artifact_has_abi_bytecode_and_the_source_hash() -> None:
    digest = source_hash()
    for name in CONTRACT_NAMES:
        artifact = json.loads((ARTIFACTS / f"{name}.json").read_text())
        assert artifact["abi"], name
        assert artifact["bytecode"].startswith("0x6"), name
        assert artifact["sourceHash"] == digest, name
        assert artifact["compiler"]["version"]


def test_generated_error_classes_match_the_abis() -> None:
    assert ERRORS_MODULE.read_text() == render(), "contract_errors.py is stale: run `make contracts`"


# Opcodes newer than the `paris` EVM the contracts target (chain_client/build/compiler.py): geth's Clique and many
# consortium chains refuse them. PUSH0 (Shanghai); TLOAD, TSTORE, MCOPY (Cancun).
_POST_PARIS = {0x5F: "PUSH0", 0x5C: "TLOAD", 0x5D: "TSTORE", 0x5E: "MCOPY"}


def _opcodes(code: bytes) -> list[int]:
    """The instructions of runtime code, skipping PUSH data and the compiler's CBOR metadata at the end."""
    metadata = int.from_bytes(code[-2:], "big") + 2 if len(code) >= 2 else 0
    code = code[: len(code) - metadata] if metadata < len(code) else code
    ops: list[int] = []
    pc = 0
    while pc < len(code):
        op = code[pc]
        ops.append(op)
        pc += 1 + (op - 0x5F if 0x60 <= op <= 0x7F else 0)
    return ops


def test_no_artifact_uses_an_instruction_newer_than_paris() -> None:
    for path in sorted(ARTIFACTS.glob("*.json")):
        artifact = json.loads(path.read_text())
        assert artifact["compiler"]["settings"]["evmVersion"] == "paris", path.name
        code = bytes.fromhex(artifact["deployedBytecode"].removeprefix("0x"))
        found = {_POST_PARIS[op] for op in _opcodes(code) if op in _POST_PARIS}
        assert not found, f"{path.name} uses {sorted(found)}"


def test_the_opcode_check_finds_push0_and_transient_storage() -> None:
    # PUSH1 0x5f (data, not an instruction), PUSH0, TSTORE, then a 2-byte metadata length of 0
    assert [op for op in _opcodes(bytes([0x60, 0x5F, 0x5F, 0x5D, 0x00, 0x00])) if op in _POST_PARIS] == [0x5F, 0x5D]
