"""Keys of a network's nodes: the p2p node key (whose public key is the node's enode id) and the account key a
signer or validator seals blocks with. Written into the network's directory, readable by its owner only: a
development network on one machine; production nodes make their own keys and share only public ones."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from eth_account import Account
from eth_keys.constants import SECPK1_N
from eth_keys.datatypes import PrivateKey
from eth_typing import HexStr

# The development key the docs and hardhat use for the operator (public knowledge: never on a network that matters).
DEV_DEPLOYER_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
DEV_DEPLOYER = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"


def new_key() -> str:
    """A fresh secp256k1 private key, 0x-hex."""
    while True:
        raw = secrets.token_bytes(32)
        if 0 < int.from_bytes(raw, "big") < SECPK1_N:
            return "0x" + raw.hex()


def address_of(key: str) -> str:
    return str(Account.from_key(key).address)


def node_id(node_key: str) -> str:
    """The 64-byte public key of a p2p node key, hex without 0x: the id in `enode://ID@host:port`."""
    return str(PrivateKey(bytes.fromhex(node_key.removeprefix("0x"))).public_key.to_bytes().hex())


def enode(node_key: str, host: str, port: int) -> str:
    return f"enode://{node_id(node_key)}@{host}:{port}"


def write_private(path: Path, text: str) -> None:
    """Write `text` to a new file that only its owner can read."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


def write_keystore(directory: Path, key: str, password: str) -> Path:
    """An encrypted keystore file (Web3 Secret Storage, as geth reads it) for `key`, in `directory`.

    scrypt with n=2^12: a development network's key, unlocked at every start (geth's default n=2^18 takes a
    second per unlock); a production signer keeps its own key with the default cost."""
    encrypted = Account.encrypt(HexStr(key), password, kdf="scrypt", iterations=2**12)
    path = directory / f"UTC--scf--{address_of(key)[2:].lower()}"
    write_private(path, json.dumps(encrypted))
    return path
