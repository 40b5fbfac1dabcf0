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
