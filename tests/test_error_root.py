"""Every error the project defines derives from `ChainError`, so one `except ChainError` catches whatever the
platform raises on purpose (and lets a bug's exception through). Input errors also derive from ValueError, as
web3 does (`Web3ValueError(Web3Exception, ValueError)`)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest

import api
import chain_client
from chain_client.exceptions import ChainError

ROOT = Path(__file__).resolve().parents[1]


def _modules() -> list[str]:
    names = ["scripts." + p.stem for p in sorted((ROOT / "scripts").glob("*.py")) if p.stem != "__init__"]
    for package in (chain_client, api):
        names += [m.name for m in pkgutil.walk_packages(package.__path__, package.__name__ + ".")]
    return [n for n in names if not n.endswith("__main__")]


def _project_errors() -> list[type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for name in _modules():
        module = importlib.import_module(name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, BaseException) and cls.__module__ == name:
                found[f"{name}.{cls.__qualname__}"] = cls
    return list(found.values())


def test_the_walk_finds_the_errors_of_every_layer() -> None:
    names = {f"{c.__module__}.{c.__name__}" for c in _project_errors()}
    expected = {
        "chain_client.exceptions.ContractError",  # the library
        "chain_client.apps.scenario.loader.ScenarioError",  # the applications
        "api.errors.ApiProblem",  # the API
        "scripts.lender_demo.ApiFailure",  # the scripts
    }
    assert expected <= names


@pytest.mark.parametrize("error", _project_errors(), ids=lambda c: f"{c.__module__}.{c.__name__}")
def test_every_project_error_derives_from_chain_error(error: type[BaseException]) -> None:
    assert issubclass(error, ChainError), f"{error.__module__}.{error.__name__} bases: {error.__bases__}"
