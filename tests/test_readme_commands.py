"""The commands README.md and docs/*.md tell a user to type work as printed from the repository's root, in a shell
where no venv is active: `scf` and the venv's `python` are written `.venv/bin/scf` and `.venv/bin/python`.
(tests/test_docs_snippets.py runs them.)"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def blocks(text: str = README) -> list[tuple[str, list[str]]]:
    """Each fenced code block of a page: (its language, its lines)."""
    found: list[tuple[str, list[str]]] = []
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("```"):
            if current is None:
                current = []
                found.append((line[3:].strip(), current))
            else:
                current = None
        elif current is not None:
            current.append(line)
    return found


def shell_lines(text: str = README) -> list[str]:
    """The command lines of the code blocks: `$ cmd` in a sample session, or a line of a bash block."""
    lines = []
    for kind, body in blocks(text):
        for line in body:
            if line.startswith("$ "):
                lines.append(line[2:])
            elif kind == "bash" and line and not line.startswith((" ", "#")):
                lines.append(line)
    return lines


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_command_in_the_docs_relies_on_an_active_venv(page: Path) -> None:
    text = page.read_text()
    lines = shell_lines(text)
    assert [line for line in lines if re.match(r"(scf|python|pytest)\b", line)] == []
    code = {line for _, body in blocks(text) for line in body}
    # In prose a command to type is in backticks (`scf demo --index FILE`); "`scf`" or "`scf serve`" alone names
    # the command or a subcommand, and a table of subcommands says above it that `scf` there stands for
    # `.venv/bin/scf`.
    prose = "\n".join(line for line in text.splitlines() if line not in code and not line.startswith("|"))
    typed = re.findall(r"`(?:python|pytest) [a-z-][^`]*`|`scf [a-z][\w-]* [^`]+`", prose)
    assert typed == []


def test_the_readme_types_scf_from_the_venv_and_says_how_to_type_it_short() -> None:
    assert any(line.startswith(".venv/bin/scf ") for line in shell_lines())
    assert "source .venv/bin/activate" in README


def test_the_venvs_scf_runs_from_the_root_in_a_shell_without_the_venv() -> None:
    venv_bin = str(Path(sys.executable).parent)
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p and p != venv_bin)
    scf = Path(sys.executable).absolute().with_name("scf")
    typed = str(scf.relative_to(ROOT)) if scf.is_relative_to(ROOT) else str(scf)
    run = subprocess.run(
        ["bash", "-c", f"{typed} --help"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    assert "demo" in run.stdout
