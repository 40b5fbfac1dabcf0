"""docs/scenarios.md, the scenario language's field reference, is what scripts/scenario_reference.py writes from
the models today, every field in it is described, and its worked example is a valid scenario."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel

from chain_client.apps.scenario import models as m
from chain_client.apps.scenario import session
from scripts import scenario_reference

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "scenarios.md"


def test_the_reference_is_current() -> None:
    assert scenario_reference.main(["--check"]) == 0, "run: .venv/bin/python scripts/scenario_reference.py"


def test_every_field_of_every_model_is_on_the_page_with_a_description() -> None:
    text = DOC.read_text(encoding="utf-8")
    models = {v for v in vars(m).values() if isinstance(v, type) and issubclass(v, BaseModel)}
    models = {model for model in models if model.__module__ == m.__name__ and model.__name__ != "_BadStep"}
    for model in models:
        for name, info in model.model_fields.items():
            assert info.description, f"{model.__name__}.{name} has no description"
            assert f"`{info.alias or name}`" in text, f"{model.__name__}.{name} is not on the page"


def test_the_worked_example_loads_and_dry_runs(tmp_path: Path) -> None:
    text = DOC.read_text(encoding="utf-8")
    (example,) = re.findall(r"cat > example\.yaml <<'EOF'\n(.*?)^EOF$", text, re.S | re.M)
    assert example == scenario_reference.EXAMPLE
    path = tmp_path / "example.yaml"
    path.write_text(example, encoding="utf-8")
    source, plan = session.prepare(path)
    assert [x.name for x in source.scenario.members] == [
        "Wuhan Motors",
        "Jianghan Bank",
        "Hankou Steel",
        "Qiaokou Bolts",
    ]
    assert len(plan.steps) - 1 == 6
    assert plan.financings.keys() == {"f_bolts"}
