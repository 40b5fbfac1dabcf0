"""Besu's account allow-list from the on-chain Membership: exactly the active (admitted, not suspended) members
may send transactions; the nodes allow-list keeps the validators' enode URLs. `follow` rewrites the file on every
membership change (Besu rereads it on `perm_reloadPermissionsFromFile`, or at restart)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from chain_client.client import ScfClient
from chain_client.deploy import DeploymentRecord
from chain_client.network.besu import PERMISSIONS_FILE, BesuNetwork, permissions_config


@dataclass(frozen=True)
class AllowList:
    block: int
    accounts: list[str]  # active members, checksummed, sorted
    nodes: list[str]  # enode URLs


def active_members(scf: ScfClient, record: DeploymentRecord, *, block: int | None = None) -> list[str]:
    """Every account ever admitted (from the MemberAdmitted events), kept if Membership says it is active now."""
    membership = scf.membership.contract
    to_block = block if block is not None else scf.w3.eth.block_number
    logs = membership.events.MemberAdmitted.get_logs(from_block=record.block_number, to_block=to_block)
    admitted = dict.fromkeys(str(log["args"]["account"]) for log in logs)
    active = [a for a in admitted if membership.functions.isActive(a).call(block_identifier=to_block)]
    return sorted(active, key=str.lower)


def write_allowlist(scf: ScfClient, record: DeploymentRecord, network: BesuNetwork) -> AllowList:
    """Rewrite the kit's permissions_config.toml from the chain; returns what it wrote."""
    block = scf.w3.eth.block_number
    allow = AllowList(block, active_members(scf, record, block=block), [n.enode for n in network.nodes])
    path = network.directory / PERMISSIONS_FILE
    text = permissions_config(allow.nodes, allow.accounts)
    if not path.exists() or path.read_text() != text:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(text)
        tmp.replace(path)  # atomic: a node rereading the file never sees half of it
    return allow


def read_allowlist(directory: str | Path) -> dict[str, list[str]]:
    """The allow-lists in a kit's permissions_config.toml."""
    import tomllib

    data = tomllib.loads((Path(directory) / PERMISSIONS_FILE).read_text())
    return {"accounts": list(data["accounts-allowlist"]), "nodes": list(data["nodes-allowlist"])}


def follow(
    scf: ScfClient,
    record: DeploymentRecord,
    network: BesuNetwork,
    *,
    interval: float = 2.0,
    on_change: Callable[[AllowList], None] = lambda allow: None,
    rounds: int | None = None,
) -> None:
    """Rewrite the allow-list whenever the active member set changes, every `interval` seconds, until Ctrl-C
    (or `rounds` rounds)."""
    last: list[str] | None = None
    done = 0
    while rounds is None or done < rounds:
        allow = write_allowlist(scf, record, network)
        if allow.accounts != last:
            on_change(allow)
            last = allow.accounts
        done += 1
        if rounds is None or done < rounds:
            time.sleep(interval)
