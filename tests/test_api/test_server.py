"""The real thing: `python -m api` in its own process (uvicorn, embedded chain, demo seed), and
`scripts/lender_demo.py` driving it over HTTP from another process, from open requests to realised yields,
started with the very command the server printed."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from api.serve import LENDER_DEMO, lender_demo_command
from tests.test_api.served import ROOT, free_port, stop, wait_for_health


def without_venv() -> dict[str, str]:
    venv_bin = str(Path(sys.executable).parent)
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p and p != venv_bin)
    return env


def test_the_lender_demo_runs_against_the_served_api(tmp_path: Path) -> None:
    port, keys, log = free_port(), tmp_path / "keys.json", tmp_path / "server.log"
    url = f"http://127.0.0.1:{port}"
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "api", "--port", str(port), "--keys-out", str(keys)],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    try:
        wait_for_health(url, server, log)
        members = json.loads(keys.read_text())["members"]
        bank = next(m["api_key"] for m in members if m["role"] == "financier")
        operator = next(m["api_key"] for m in members if m["role"] == "operator")
        # The command the server printed, typed as printed in the repository's root by a user whose shell
        # has no venv active (a bare `python` there lacks the packages).
        printed = re.search(r"^Lender demo: (.+)$", log.read_text(), re.MULTILINE)
        assert printed is not None, log.read_text()
        command = printed.group(1)
        if Path(sys.executable).absolute().is_relative_to(ROOT):  # the venv `make` creates: a relative path
            assert command.startswith(f"{Path(sys.executable).absolute().relative_to(ROOT)} scripts/lender_demo.py ")
        assert f"--api {url} --key {bank} --operator-key {operator}" in command
        demo = subprocess.run(
            ["bash", "-c", command], cwd=ROOT, env=without_venv(), capture_output=True, text=True, timeout=120
        )
    finally:
        stop(server)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "replayed=True" in demo.stdout
    yields = re.findall(r"^realised yield \S+: (\d+\.\d{3})%$", demo.stdout, re.MULTILINE)
    assert len(yields) == 3
    assert all(3 < float(y) < 5 for y in yields)  # the demo's requests are priced at 3.5% to 4.2%
    assert "API keys" in log.read_text()  # the server printed the keys to use


def test_the_printed_command_names_the_venvs_interpreter_by_an_absolute_path_elsewhere(tmp_path: Path) -> None:
    command = shlex.split(lender_demo_command("http://127.0.0.1:1", "KEY", "OP", cwd=tmp_path))
    assert command[:2] == [str(Path(sys.executable).absolute()), str(LENDER_DEMO)]
    assert command[2:] == ["--api", "http://127.0.0.1:1", "--key", "KEY", "--operator-key", "OP"]
