"""A member's chain key from an encrypted keystore (eth-account's keystore v3 JSON, as geth and Clef write it),
unlocked once at start from a passphrase given by file or environment variable, never inline.

    {"name": "Bank of Hankou", "role": "financier", "api_key": "…",
     "keystore": "keys/bank.json", "passphrase_file": "/run/secrets/bank-pass"}
    {"name": "…", "role": "…", "api_key": "…", "keystore": "keys/core.json", "passphrase_env": "SCF_CORE_PASS"}

Every failure is one line naming the member and the file (`KeystoreError`: `scf serve` prints it and exits
2); the passphrase is never part of it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

from eth_account import Account

from chain_client.exceptions import ChainError

MAX_KEYSTORE = 64 * 1024  # a v3 keystore is under 1 KiB


class KeystoreError(ChainError, ValueError):
    """An input error (a ValueError). Raised inside the keys file's validation, pydantic wraps it in a
    multi-line ValidationError: `api.settings.read_members` takes it out again, so `scf serve` prints its one
    line."""


def passphrase_of(member: str, *, file: Path | None, env_name: str | None, env: Mapping[str, str] | None = None) -> str:
    env = os.environ if env is None else env
    if (file is None) == (env_name is None):
        raise KeystoreError(f"member {member!r}: a keystore needs exactly one of passphrase_file or passphrase_env")
    if file is not None:
        try:
            # One trailing newline is the file's, not the passphrase's (echo pass > file).
            return file.read_text().removesuffix("\n")
        except OSError as exc:
            raise KeystoreError(f"member {member!r}: cannot read passphrase_file {file}: {exc.strerror}") from None
    assert env_name is not None
    value = env.get(env_name)
    if value is None:
        raise KeystoreError(f"member {member!r}: the environment variable {env_name} (passphrase_env) is not set")
    return value


def unlock(
    member: str,
    keystore: Path,
    *,
    passphrase_file: Path | None = None,
    passphrase_env: str | None = None,
    env: Mapping[str, str] | None = None,
) -> str:
    """The private key (0x-hex) in `keystore`, decrypted with the passphrase from the file or the variable."""
    passphrase = passphrase_of(member, file=passphrase_file, env_name=passphrase_env, env=env)
    try:
        if keystore.stat().st_size > MAX_KEYSTORE:
            raise KeystoreError(f"member {member!r}: {keystore} is not a keystore (over {MAX_KEYSTORE} bytes)")
        data = json.loads(keystore.read_text())
    except OSError as exc:
        raise KeystoreError(f"member {member!r}: cannot read keystore {keystore}: {exc.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise KeystoreError(f"member {member!r}: {keystore} is not keystore JSON") from None
    try:
        key = Account.decrypt(data, passphrase)
    except ValueError as exc:
        if "MAC mismatch" in str(exc):
            raise KeystoreError(f"member {member!r}: wrong passphrase for keystore {keystore}") from None
        raise KeystoreError(f"member {member!r}: {keystore} is not a v3 keystore ({exc})") from None
    except (KeyError, TypeError):
        raise KeystoreError(f"member {member!r}: {keystore} is not a v3 keystore") from None
    return "0x" + bytes(key).hex()
