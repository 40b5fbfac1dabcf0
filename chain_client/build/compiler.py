"""Compile `contracts/` with py-solc-x into `chain_client/artifacts/<Name>.json`.

Uses a native `solc` of the pinned version when one is on PATH, otherwise npm's solc-js through
`scripts/solcjs-wrapper`. Recompiles only when the source hash changed, so a second run is instant.

    python -m chain_client.build            # compile if the sources changed (needs `npm ci` then)
    python -m chain_client.build --check    # exit 0 if the committed artifacts match the sources, else 1
    python -m chain_client.build --force    # compile anyway

The source hash covers the npm libraries' versions as package-lock.json pins them, so `--check` needs no
node_modules: `make demo` on a fresh clone installs no npm package while the artifacts are current.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CONTRACTS = ROOT / "contracts"
ARTIFACTS = ROOT / "chain_client" / "artifacts"
ERRORS_MODULE = ROOT / "chain_client" / "contract_errors.py"
WRAPPER = ROOT / "scripts" / "solcjs-wrapper"

SOLC_VERSION = "0.8.28"
SETTINGS: dict[str, Any] = {
    "optimizer": {"enabled": True, "runs": 10_000},
    "viaIR": True,
    # paris: no PUSH0 (Shanghai), no MCOPY or transient storage (Cancun). One set of artifacts that also runs on
    # consortium chains behind the public forks: geth's Clique refuses Shanghai and later, as do many Besu and
    # Quorum networks. Costs a few gas per operation (docs/performance.md, "The EVM target").
    "evmVersion": "paris",
    "remappings": ["@openzeppelin/=node_modules/@openzeppelin/", "@solvprotocol/=node_modules/@solvprotocol/"],
    "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object", "storageLayout"]}},
}
# Reference implementations used only by the gas report are wrapped in contracts/bench/References.sol.
EXTRA_SOURCES: list[str] = []


def _dependency_versions() -> dict[str, str]:
    lock = json.loads((ROOT / "package-lock.json").read_text())
    packages = lock.get("packages", {})
    names = ["node_modules/@openzeppelin/contracts", "node_modules/@solvprotocol/erc-3525"]
    return {n: str(packages.get(n, {}).get("version", "")) for n in names}


def source_files() -> list[Path]:
    return sorted(CONTRACTS.rglob("*.sol"))


def source_hash() -> str:
    """Hash of everything that determines the artifacts: our sources, settings, compiler and libraries."""
    h = hashlib.sha256()
    for path in source_files():
        h.update(path.relative_to(ROOT).as_posix().encode())
        h.update(b"\0")
        h.update(path.read_bytes())
        h.update(b"\0")
    h.update(json.dumps([SOLC_VERSION, SETTINGS, EXTRA_SOURCES, _dependency_versions()], sort_keys=True).encode())
    return h.hexdigest()


def artifacts_fresh() -> bool:
    stamp = ARTIFACTS / "_source_hash.txt"
    return stamp.exists() and stamp.read_text().strip() == source_hash()


def _solc_binary() -> str:
    native = shutil.which("solc")
    if native:
        out = subprocess.run([native, "--version"], capture_output=True, text=True, check=False).stdout
        if SOLC_VERSION in out:
            return native
    if not (ROOT / "node_modules" / "solc" / "solc.js").exists():
        raise SystemExit("solc-js is not installed: run `npm ci` first (the Makefile does this for you)")
    return str(WRAPPER)


def compile_all() -> dict[str, Any]:
    import solcx  # imported here: only building needs it

    sources = {p.relative_to(ROOT).as_posix(): {"urls": [p.relative_to(ROOT).as_posix()]} for p in source_files()}
    for extra in EXTRA_SOURCES:
        sources[extra] = {"urls": [extra]}
    standard_input = {"language": "Solidity", "sources": sources, "settings": SETTINGS}
    output: dict[str, Any] = solcx.compile_standard(
        standard_input, base_path=str(ROOT), allow_paths=str(ROOT), solc_binary=_solc_binary()
    )
    return output


def write_artifacts(output: dict[str, Any]) -> list[str]:
    digest = source_hash()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob("*.json"):
        old.unlink()
    written: list[str] = []
    for source, contracts in output["contracts"].items():
        if source.startswith("node_modules/"):
            continue  # libraries are compiled into our contracts, not deployed alone
        for name, data in contracts.items():
            bytecode = data["evm"]["bytecode"]["object"]
            if not bytecode:
                continue  # interfaces and abstract contracts
            if not data["abi"]:
                continue  # libraries of internal functions (contracts/types/): compiled into their users
            artifact = {
                "contractName": name,
                "sourceName": source,
                "abi": data["abi"],
                "bytecode": "0x" + bytecode,
                "deployedBytecode": "0x" + data["evm"]["deployedBytecode"]["object"],
                "compiler": {"version": SOLC_VERSION, "settings": SETTINGS},
                "sourceHash": digest,
                # Slots and packed offsets of every state variable and struct member: read by
                # tests/test_contract_limits.py, which fails when a packed struct grows a storage word.
                "storageLayout": data.get("storageLayout", {}),
            }
            target = name
            (ARTIFACTS / f"{target}.json").write_text(json.dumps(artifact, indent=1, sort_keys=True) + "\n")
            written.append(target)
    (ARTIFACTS / "_source_hash.txt").write_text(digest + "\n")
    return sorted(written)


def main(argv: list[str]) -> int:
    from chain_client.build.errors_codegen import write_errors_module

    force = "--force" in argv
    if "--check" in argv:  # for the Makefile: is a compiler (npm's solc-js and libraries) needed at all?
        if artifacts_fresh():
            return 0
        print("contracts: the sources changed since the committed artifacts: a compiler is needed")
        return 1
    if not force and artifacts_fresh():
        # The error classes also follow the NatSpec and the generator, which the source hash does not cover.
        if write_errors_module():
            print("contracts: artifacts up to date; rewrote", ERRORS_MODULE.relative_to(ROOT))
        else:
            print("contracts: artifacts up to date")
        return 0
    print("contracts: compiling with solc", SOLC_VERSION, "...", flush=True)
    try:
        output = compile_all()
    except Exception as exc:  # solcx.exceptions.SolcError carries the compiler's message
        print(f"contracts: compilation failed:\n{exc}", file=sys.stderr)
        return 1
    errors = [e for e in output.get("errors", []) if e.get("severity") == "error"]
    if errors:
        for e in errors:
            print(e.get("formattedMessage", e), file=sys.stderr)
        return 1
    for w in output.get("errors", []):
        if not w.get("sourceLocation", {}).get("file", "").startswith("node_modules/"):
            print(w.get("formattedMessage", w), file=sys.stderr)
    names = write_artifacts(output)
    write_errors_module()
    print("contracts: wrote", ", ".join(names))
    return 0
