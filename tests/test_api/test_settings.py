"""Configuration: API keys and accounts come from a file or the environment, and bad ones are refused."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from eth_account import Account
from pydantic import ValidationError

from api.context import Members
from api.settings import MemberConfig, Settings, read_members, write_members
from chain_client.membership import Role
from chain_client.pricing import DayCount

KEY = Account.create()


def member(**changes: object) -> dict[str, object]:
    base: dict[str, object] = {"name": "Bank of Hankou", "role": "financier", "api_key": "k" * 24}
    base["private_key"] = KEY.key.hex()
    base.update(changes)
    return base


def test_members_come_from_a_json_keys_file(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    path.write_text(
        json.dumps(
            {
                "members": [
                    member(),
                    member(
                        name="Clerk", role="supplier", api_key="s" * 20, private_key=None, address=KEY.address.lower()
                    ),
                ]
            }
        )
    )
    settings = Settings.load(path, env={})
    bank, clerk = settings.members
    assert (bank.role, clerk.role) == (Role.FINANCIER, Role.SUPPLIER)
    members = Members(settings.members)
    found = members.by_key("k" * 24)
    assert found is not None
    assert found.address == KEY.address
    assert found.account is not None
    assert members.by_key("s" * 20) is not None
    assert members.by_key("nope" * 6) is None


def test_members_come_from_a_toml_file_named_in_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "keys.toml"
    path.write_text(
        f'[[members]]\nname = "Ops"\nrole = "operator"\napi_key = "{"o" * 16}"\naddress = "{KEY.address}"\n'
    )
    settings = Settings.load(env={"SCF_API_KEYS_FILE": str(path), "SCF_API_DAY_COUNT": "ACT/365"})
    assert settings.members[0].role is Role.OPERATOR
    assert settings.day_count is DayCount.ACT_365
    assert settings.rpc_url is None


def test_inline_json_in_the_environment_works_and_arguments_win(tmp_path: Path) -> None:
    env = {"SCF_API_KEYS": json.dumps({"members": [member()]}), "SCF_RPC": "http://a:1"}
    settings = Settings.load(env=env, rpc_url="http://b:2", store_path=tmp_path / "s.sqlite")
    assert settings.rpc_url == "http://b:2"
    assert settings.store_path == tmp_path / "s.sqlite"


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (member(role="banker"), "unknown role"),
        (member(private_key=None), "needs an address or a private_key"),
        (member(address="0x" + "11" * 20), "does not match"),
        (member(private_key="0x1234"), "not a 32-byte hex key"),
        (member(api_key="short"), "at least 16"),
        (member(colour="red"), "Extra inputs"),
    ],
)
def test_a_bad_member_is_refused_with_a_reason(bad: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        MemberConfig.model_validate(bad)


def test_two_members_may_not_share_a_key() -> None:
    with pytest.raises(ValidationError, match="share an api_key"):
        Settings.load(env={"SCF_API_KEYS": json.dumps({"members": [member(), member(name="Twin")]})})


def test_no_configuration_at_all_is_an_error_naming_the_options(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="SCF_API_KEYS_FILE"):
        Settings.load(env={})
    with pytest.raises(ValueError, match="no keys file"):
        Settings.load(tmp_path / "missing.json", env={})
    (tmp_path / "list.json").write_text("[]")
    with pytest.raises(ValueError, match='"members" list'):
        Settings.load(tmp_path / "list.json", env={})


def test_a_written_keys_file_reads_back_and_only_its_owner_can_read_it(tmp_path: Path) -> None:
    configs = [MemberConfig.model_validate(member())]
    path = tmp_path / "keys.json"
    write_members(path, configs)
    assert read_members(path) == configs
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
