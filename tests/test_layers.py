"""The layers import downwards only (docs/layout.md): `api/` on `chain_client/apps/` on the library.

Read from the source, not from what happens to be imported at run time: a function-level import counts as much
as a module-level one, since either loads the upper layer the moment it runs.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIBRARY = ROOT / "chain_client"
APPS = LIBRARY / "apps"
WEB_STACK = ("fastapi", "fastapi_offline", "uvicorn", "starlette")


def imports_of(path: Path) -> set[str]:
    """Every module `path` imports, absolute, at any depth of its code."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif isinstance(node, ast.ImportFrom):
            raise AssertionError(f"{path.relative_to(ROOT)}: a relative import; the project spells them in full")
    return names


def within(name: str, packages: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


def offenders(files: list[Path], forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in files
        for name in sorted(imports_of(path))
        if within(name, forbidden)
    ]


def test_the_library_imports_neither_the_applications_nor_the_api_nor_a_web_framework() -> None:
    library = [p for p in LIBRARY.rglob("*.py") if not p.is_relative_to(APPS)]
    assert len(library) > 20  # the walk found the library
    assert offenders(library, ("chain_client.apps", "api", *WEB_STACK)) == []


def test_the_applications_import_no_api() -> None:
    apps = list(APPS.rglob("*.py"))
    assert len(apps) > 10
    assert offenders(apps, ("api", *WEB_STACK)) == []


def test_importing_the_library_loads_no_web_framework() -> None:
    probe = (
        "import sys, chain_client, chain_client.client, chain_client.index\n"
        f"print(sorted(m for m in {WEB_STACK!r} if m in sys.modules))"
    )
    run = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]"


# The client installed without the `api` extra: FastAPI and uvicorn cannot be imported (a None in sys.modules
# makes `import` raise ModuleNotFoundError, as a missing package does).
WITHOUT_THE_API_EXTRA = (
    "import sys\n"
    f"sys.modules.update(dict.fromkeys({WEB_STACK!r}))\n"
    "from chain_client.apps.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


def scf_without_the_api_extra(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_THE_API_EXTRA, *argv], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_scf_lists_serve_and_serve_says_how_to_install_the_api_without_the_extra() -> None:
    listed = scf_without_the_api_extra("--help")
    assert listed.returncode == 0, listed.stderr
    assert "serve      run the lender HTTP API (see `scf serve --help`)" in listed.stdout
    assert scf_without_the_api_extra("serve", "--help").stdout.startswith("usage: scf serve")
    run = scf_without_the_api_extra("serve", "--port", "0")
    assert run.returncode == 2
    assert run.stdout == ""
    assert (
        run.stderr
        == "scf serve: error: the lender API needs uvicorn, not installed here: pip install 'scf-chain[api]'\n"
    )
