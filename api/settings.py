"""Configuration: which API keys exist, whose account each one is, in what role, and where the chain is.

Keys never live in code. They come from a keys file (JSON or TOML) named by `--keys-file` or
`SCF_API_KEYS_FILE`, or inline JSON in `SCF_API_KEYS`:

    {"members": [
        {"name": "Bank of Hankou", "role": "financier", "api_key": "…", "private_key": "0x…"},
        {"name": "Hanyang Castings", "role": "supplier", "api_key": "…", "address": "0x…"}
    ]}

A member with a `private_key` can have the API send transactions for it (a lender's funding and
redemption are signed server-side); one with only an `address` can read and submit signed requests. Instead of
a `private_key`, a member's key may come from an encrypted `keystore` (v3 JSON) with its passphrase in a
`passphrase_file` or the environment variable named by `passphrase_env` (`api.keystore`; docs/parties.md).
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from eth_account import Account
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator

from api.keystore import KeystoreError, unlock
from chain_client.membership import Role
from chain_client.pricing import DayCount

ENV_KEYS_FILE = "SCF_API_KEYS_FILE"
ENV_KEYS = "SCF_API_KEYS"
ENV_RPC = "SCF_RPC"
ENV_DEPLOYMENT = "SCF_DEPLOYMENT"
ENV_STORE = "SCF_API_STORE"
ENV_INDEX = "SCF_API_INDEX"
ENV_DAY_COUNT = "SCF_API_DAY_COUNT"


class MemberConfig(BaseModel):
    """One API key and the consortium member it speaks for."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    role: Role
    api_key: SecretStr = Field(min_length=16)
    address: str | None = None
    private_key: SecretStr | None = None
    keystore: Path | None = None  # an encrypted key (api.keystore), unlocked when the configuration is read
    passphrase_file: Path | None = None
    passphrase_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")

    @model_validator(mode="before")
    @classmethod
    def _unlock(cls, data: Any) -> Any:
        if not isinstance(data, dict) or data.get("keystore") is None:
            return data
        if data.get("private_key") is not None:
            raise ValueError(f"member {data.get('name')!r}: give a private_key or a keystore, not both")
        key = unlock(
            str(data.get("name")),
            Path(data["keystore"]),
            passphrase_file=None if data.get("passphrase_file") is None else Path(data["passphrase_file"]),
            passphrase_env=data.get("passphrase_env"),
        )
        return {**data, "private_key": SecretStr(key)}

    @field_validator("role", mode="before")
    @classmethod
    def _role_by_name(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                return Role[value.strip().upper().replace(" ", "_").replace("-", "_")]
            except KeyError:
                names = ", ".join(r.name.lower() for r in Role if r is not Role.NONE)
                raise ValueError(f"unknown role {value!r} (one of {names})") from None
        return value

    @model_validator(mode="after")
    def _account(self) -> MemberConfig:
        if self.keystore is None and (self.passphrase_file is not None or self.passphrase_env is not None):
            raise ValueError(f"member {self.name!r}: passphrase_file and passphrase_env go with a keystore")
        if self.private_key is None and self.address is None:
            raise ValueError(f"member {self.name!r} needs an address or a private_key")
        if self.private_key is not None:
            try:
                derived = Account.from_key(self.private_key.get_secret_value()).address
            except Exception:
                raise ValueError(f"member {self.name!r}: private_key is not a 32-byte hex key") from None
            if self.address is not None and self.address.lower() != derived.lower():
                raise ValueError(f"member {self.name!r}: address does not match its private_key")
        return self


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    members: list[MemberConfig]
    rpc_url: str | None = None  # None: the embedded chain, inside this process
    deployment: Path | None = None  # a DeploymentRecord file (needed with rpc_url)
    store_path: Path | None = None  # the API's own SQLite file (financing requests, idempotency keys)
    index_path: str = ":memory:"  # the API's event index (its own: one writer per index file)
    day_count: DayCount = DayCount.ACT_360

    @model_validator(mode="after")
    def _unique_keys(self) -> Settings:
        keys = [m.api_key.get_secret_value() for m in self.members]
        if len(set(keys)) != len(keys):
            raise ValueError("two members share an api_key")
        return self

    @classmethod
    def load(
        cls, keys_file: str | Path | None = None, *, env: Mapping[str, str] | None = None, **given: Any
    ) -> Settings:
        """Members from `keys_file`, else `SCF_API_KEYS_FILE`, else inline `SCF_API_KEYS`; other settings from
        `given` (command-line values win) or the environment."""
        env = os.environ if env is None else env
        members = read_members(keys_file or env.get(ENV_KEYS_FILE), env.get(ENV_KEYS))
        from_env: dict[str, Any] = {
            "rpc_url": env.get(ENV_RPC),
            "deployment": env.get(ENV_DEPLOYMENT),
            "store_path": env.get(ENV_STORE),
            "index_path": env.get(ENV_INDEX),
            "day_count": env.get(ENV_DAY_COUNT),
        }
        values = {k: v for k, v in {**from_env, **given}.items() if v is not None}
        return cls(members=members, **values)


def read_members(path: str | Path | None, inline: str | None = None) -> list[MemberConfig]:
    if path:
        file = Path(path)
        if not file.exists():
            raise ValueError(f"no keys file at {file}")
        text = file.read_text()
        data: Any = tomllib.loads(text) if file.suffix == ".toml" else json.loads(text)
    elif inline:
        data = json.loads(inline)
    else:
        raise ValueError(f"no API keys configured: give --keys-file, or set {ENV_KEYS_FILE} or {ENV_KEYS}")
    if not isinstance(data, dict) or not isinstance(data.get("members"), list):
        raise ValueError('the keys configuration must be an object with a "members" list')
    try:
        return [MemberConfig.model_validate(m) for m in data["members"]]
    except ValidationError as exc:
        # A keystore that does not unlock is its own one-line error, not one of pydantic's multi-line reports.
        for error in exc.errors():
            cause = (error.get("ctx") or {}).get("error")
            if isinstance(cause, KeystoreError):
                raise cause from None
        raise


def write_members(path: str | Path, members: Sequence[MemberConfig]) -> None:
    """Write a keys file that `read_members` reads back (owner-only: it holds API keys and signing keys)."""
    rows = []
    for m in members:
        row: dict[str, Any] = {"name": m.name, "role": m.role.name.lower(), "api_key": m.api_key.get_secret_value()}
        if m.address is not None:
            row["address"] = m.address
        if m.keystore is not None:  # the key stays encrypted: name the keystore and where its passphrase is
            row["keystore"] = str(m.keystore)
            for name in ("passphrase_file", "passphrase_env"):
                if getattr(m, name) is not None:
                    row[name] = str(getattr(m, name))
        elif m.private_key is not None:
            row["private_key"] = m.private_key.get_secret_value()
        rows.append(row)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(json.dumps({"members": rows}, indent=2) + "\n")
