"""docs/network.md runs as written, against the geth network its own commands start (on free ports instead of
the page's 8545 and 30303), and the network is stopped afterwards whatever happens."""

from __future__ import annotations

from pathlib import Path

import pytest

from chain_client.network import geth
from tests.network.conftest import free_ports
from tests.test_docs_snippets import NEEDS_GETH, env_without_a_venv, run_shell, sandbox

pytestmark = pytest.mark.network

PAGE = "docs/network.md"


def test_the_network_page_runs_as_written(geth_binary: Path, tmp_path: Path) -> None:
    assert PAGE in NEEDS_GETH  # left out of tests/test_docs_snippets.py's runs: it is run here
    http, p2p = free_ports(4)
    replace = {"--http-port 8545": f"--http-port {http}", "--p2p-port 30303": f"--p2p-port {p2p}"}
    replace |= {f"127.0.0.1:{8545 + i}": f"127.0.0.1:{http + i}" for i in range(4)}
    root = sandbox(tmp_path)
    env = env_without_a_venv() | {"SCF_GETH": str(geth_binary)}
    try:
        run_shell(PAGE, root, env, replace=replace)
    finally:
        if (root / "net" / geth.MANIFEST).exists():
            geth.down(root / "net")
