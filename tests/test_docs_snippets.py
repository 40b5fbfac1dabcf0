"""Every code block in README.md and docs/*.md runs as written.

- ```python blocks: the blocks of one file run in order in one namespace (a page is one session: its first block
  starts the embedded chain, later blocks continue it), in a fresh namespace per file, with a scratch directory
  as the working directory. Tracebacks point at the Markdown file's own line numbers.
- ```bash blocks and `$ ` lines of ```console blocks: the commands of one file run in order, each block as one
  bash script (`set -euo pipefail`), in a scratch copy of the repository's root (`.venv` and `scripts` linked in,
  files the commands write stay in the scratch directory), in a shell where no venv is active.
- ```yaml blocks are files a page tells the reader to save: the first line names the file (`# my_chain.yaml: …`),
  and the test writes it into the scratch directory before the page's commands run.
- ```text blocks are output samples and are not run; a block with any other fence (or none) fails the test.
- Every relative link between these pages points at a file that exists and, with `#anchor`, at a heading in it.
- Commands that are slow or need a server are in `NOT_RUN_HERE` with the reason and the place they do run.
- docs/real-nodes.md talks to a JSON-RPC node: its blocks run against a hardhat node this module starts on a free
  port (marker `rpc`): the Python blocks read it from `$SCF_RPC`, as they say, and in the commands
  `http://127.0.0.1:8545` is replaced by its URL.

Shell commands cost a Python start-up each (about 2 s of CPU for `scf`), so the pages run side by side; the
whole module takes about 40 s of CPU.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from chain_client.apps.cli import build_parser
from tests.rpc import conftest as rpc_conftest
from tests.rpc.conftest import HARDHAT_KEY

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
RUN = {"python", "bash", "console", "yaml"}
SAMPLE = {"text"}
# Pages whose blocks need a JSON-RPC node: run by the `rpc` test below, not by the embedded-chain tests.
NEEDS_A_NODE = {"docs/real-nodes.md"}
NODE_IN_DOCS = "http://127.0.0.1:8545"
# Pages whose commands start a network of geth nodes: run by tests/network/test_network_doc.py (marker `network`).
NEEDS_GETH = {"docs/network.md"}

# Commands shown in the docs that this test does not run, why, and where they do run.
NOT_RUN_HERE: dict[str, str] = {
    "make demo": "installs packages and runs the whole demo (about a minute); tests/test_demo.py runs "
    "scripts/demo.py, which is what it runs",
    "make test": "is the whole CI run itself (.ci/run calls it)",
    "make geth": "builds geth v1.13.15 once (minutes); make test runs it first, and tests/network/ use what it built",
    "make soak": "runs the state machine for 20,000 steps (tens of minutes); CI runs 2,000 in "
    "tests/test_system_stateful.py",
    ".venv/bin/pytest -m 'not rpc'": "is the test suite; CI runs it whole through make test",
    ".venv/bin/scf serve --port 8765": "serves until stopped; tests/test_api/test_serve_lifecycle.py starts and "
    "stops `scf serve` and tests/test_demo.py serves the API and drives it over HTTP",
}
# The lender API session in docs/api.md: each `curl` talks to a running `scf serve --port 8765` with a key
# it printed. The same requests are made over HTTP by tests/test_api/ (list, quote, fund with an
# Idempotency-Key, portfolio) and by scripts/lender_demo.py in tests/test_demo.py.
NOT_RUN_PREFIXES: dict[str, str] = {
    'curl -s -H "Authorization: Bearer $K"': "needs `scf serve` and its printed key (see above)",
    'curl -s -X POST -H "Authorization: Bearer $K"': "needs `scf serve` and its printed key (see above)",
}


@dataclass(frozen=True)
class Block:
    page: str  # path from the repository's root
    line: int  # the fence's line number (1-based)
    fence: str
    body: str


def blocks(path: Path) -> list[Block]:
    found: list[Block] = []
    opened: tuple[int, str] | None = None
    body: list[str] = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.startswith("```"):
            if opened is not None:
                body.append(line)
            continue
        if opened is None:
            opened, body = (number, line[3:].strip()), []
        else:
            found.append(Block(str(path.relative_to(ROOT)), opened[0], opened[1], "\n".join(body) + "\n"))
            opened = None
    assert opened is None, f"{path}: a code block opened at line {opened[0]} is never closed"
    return found


def all_blocks() -> list[Block]:
    return [b for page in PAGES for b in blocks(page)]


def commands(block: Block) -> list[str]:
    """A bash block's command lines (continuation lines joined), or a console block's `$ ` lines."""
    lines: list[str] = []
    for raw in block.body.splitlines():
        if block.fence == "console":
            if raw.startswith("$ "):
                lines.append(raw[2:])
            elif lines and lines[-1].endswith("\\") and raw.startswith(" "):
                lines[-1] += "\n" + raw
        elif raw.strip() and not raw.startswith("#"):
            if lines and lines[-1].endswith("\\"):
                lines[-1] += "\n" + raw
            else:
                lines.append(raw)
    return lines


def why_not_run(command: str) -> str | None:
    bare = command.split("  #")[0].strip()
    if bare in NOT_RUN_HERE:
        return NOT_RUN_HERE[bare]
    return next((why for prefix, why in NOT_RUN_PREFIXES.items() if bare.startswith(prefix)), None)


def pages_with(fence: set[str], *, node: bool) -> list[str]:
    """Pages with blocks of these fences, among the pages that need a node (`node`) or among the others."""
    return sorted(
        {
            b.page
            for b in all_blocks()
            if b.fence in fence and (b.page in NEEDS_A_NODE) == node and b.page not in NEEDS_GETH
        }
    )


# ---------------------------------------------------------------------------------------------- the fences


def test_every_block_is_run_or_is_an_output_sample() -> None:
    unknown = [f"{b.page}:{b.line} ```{b.fence}" for b in all_blocks() if b.fence not in RUN | SAMPLE]
    assert unknown == [], (
        "fence each block as python, bash, console or yaml (run or saved here) or text (output, not run)"
    )


def test_every_command_left_out_here_is_still_in_the_docs() -> None:
    shown = {c.split("  #")[0].strip() for b in all_blocks() if b.fence in {"bash", "console"} for c in commands(b)}
    assert set(NOT_RUN_HERE) <= shown, "drop the entries the docs no longer show"
    assert all(any(c.startswith(p) for c in shown) for p in NOT_RUN_PREFIXES)


def test_commands_named_in_prose_exist() -> None:
    """`.venv/bin/scf SUB`, `.venv/bin/python scripts/X.py` and `make TARGET` written in prose name real things."""
    (commands_,) = (a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    subcommands = set(commands_.choices)
    targets = set(re.findall(r"^([a-z][\w-]*):", (ROOT / "Makefile").read_text(), re.M))
    for page in PAGES:
        text = page.read_text()
        for sub in re.findall(r"`\.venv/bin/scf ([a-z]\w*)", text):
            assert sub in subcommands, f"{page.name}: scf has no subcommand {sub!r}"
        for script in re.findall(r"`\.venv/bin/python (scripts/[\w/]+\.py)", text):
            assert (ROOT / script).exists(), f"{page.name}: {script} does not exist"
        for target in re.findall(r"`make (\w+)", text):
            assert target in targets, f"{page.name}: the Makefile has no target {target!r}"


def saved_as(block: Block) -> str:
    """The file name a ```yaml block's first line gives (`# my_chain.yaml: what it is`)."""
    named = re.match(r"# ([\w.-]+\.ya?ml)\b", block.body)
    assert named, f"{block.page}:{block.line}: start the block with `# FILE.yaml: …`, the file it is saved as"
    return named.group(1)


def test_every_yaml_block_names_its_file() -> None:
    for block in (b for b in all_blocks() if b.fence == "yaml"):
        saved_as(block)


# ---------------------------------------------------------------------------------------------- links


def anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_every_link_between_the_pages_resolves() -> None:
    for page in PAGES:
        for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text()):
            if re.match(r"[a-z]+:", target):
                continue
            file, _, fragment = target.partition("#")
            path = (page.parent / file).resolve() if file else page
            assert path.exists(), f"{page.name}: link to {target}: no such file"
            if fragment:
                headings = re.findall(r"^#+ (.+)$", path.read_text(), re.M)
                assert fragment in {anchor(h) for h in headings}, f"{page.name}: link to {target}: no such heading"


# ---------------------------------------------------------------------------------------------- python


def run_python(page: str, workdir: Path) -> None:
    namespace: dict[str, object] = {"__name__": "__docs__"}
    with contextlib.chdir(workdir):
        for block in (b for b in blocks(ROOT / page) if b.fence == "python"):
            # Padding puts the code at its own line numbers, so a traceback names the Markdown line.
            code = compile("\n" * block.line + block.body, str(ROOT / page), "exec")
            exec(code, namespace)


@pytest.mark.parametrize("page", pages_with({"python"}, node=False))
def test_the_python_blocks_of_a_page_run_in_order(page: str, tmp_path: Path) -> None:
    run_python(page, tmp_path)


# ---------------------------------------------------------------------------------------------- shell


def sandbox(tmp_path: Path) -> Path:
    """A stand-in for the repository's root: commands find `.venv/bin/scf` and `scripts/` where the docs say,
    and what they write lands here."""
    for name in (".venv", "scripts"):
        (tmp_path / name).symlink_to(ROOT / name)
    return tmp_path


def env_without_a_venv() -> dict[str, str]:
    venv_bin = str(Path(sys.executable).parent)
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p and p != venv_bin)
    env["COLUMNS"] = "120"
    return env


def run_shell(page: str, cwd: Path, env: dict[str, str], replace: dict[str, str] | None = None) -> None:
    """Writes the page's YAML files, then runs its command blocks in order, each as one bash script."""
    for block in (b for b in blocks(ROOT / page) if b.fence == "yaml"):
        (cwd / saved_as(block)).write_text(block.body)
    for block in (b for b in blocks(ROOT / page) if b.fence in {"bash", "console"}):
        script = [c for c in commands(block) if why_not_run(c) is None]
        if not script:
            continue
        text = "\n".join(script)
        for old, new in (replace or {}).items():
            text = text.replace(old, new)
        run = subprocess.run(
            ["bash", "-c", "set -euo pipefail\n" + text],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert run.returncode == 0, f"{page}:{block.line}\n{text}\n--- stdout\n{run.stdout}\n--- stderr\n{run.stderr}"


@pytest.fixture(scope="module")
def shell_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str | None]:
    """Every page's commands, the pages side by side (each in its own scratch directory, so they are independent,
    and each command mostly waits for its own process): page → None, or what failed."""

    def run(page: str, root: Path) -> str | None:
        try:
            run_shell(page, root, env_without_a_venv())
        except AssertionError as failed:
            return str(failed)
        return None

    pages = pages_with({"bash", "console"}, node=False)
    roots = [sandbox(tmp_path_factory.mktemp("page")) for _ in pages]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        return dict(zip(pages, pool.map(run, pages, roots), strict=True))


@pytest.mark.parametrize("page", pages_with({"bash", "console"}, node=False))
def test_the_commands_of_a_page_run_as_written(page: str, shell_runs: dict[str, str | None]) -> None:
    failed = shell_runs[page]
    if failed:
        pytest.fail(failed, pytrace=False)


# ---------------------------------------------------------------------------------------------- a real node


@pytest.fixture(scope="module")
def node_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A hardhat node started as tests/rpc/conftest.py starts one, stopped as soon as this module is done."""
    for url in rpc_conftest.hardhat_url.__wrapped__(tmp_path_factory):  # type: ignore[attr-defined]
        yield {**env_without_a_venv(), "SCF_RPC": url, "SCF_OPERATOR_KEY": HARDHAT_KEY}


@pytest.mark.rpc
@pytest.mark.parametrize("page", sorted(NEEDS_A_NODE))
def test_the_real_node_pages_run_against_a_node(page: str, node_env: dict[str, str], tmp_path: Path) -> None:
    url = node_env["SCF_RPC"]
    assert NODE_IN_DOCS in (ROOT / page).read_text()
    with pytest.MonkeyPatch.context() as env:
        for key in ("SCF_RPC", "SCF_OPERATOR_KEY"):
            env.setenv(key, node_env[key])
        python = tmp_path / "python"
        python.mkdir()
        run_python(page, python)
    shell = tmp_path / "shell"
    shell.mkdir()
    run_shell(page, sandbox(shell), node_env, replace={NODE_IN_DOCS: url})
