"""docs/scenarios.md's key reference is generated from the scenario schema, and the schema
takes the rules of the engine's scalar parameters from their definitions (issue 14)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from simcore import scenario
from simcore._schema import rule_of
from simcore.dynamic.params import DynamicParams
from simcore.errors import ParameterError, ScenarioError

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "docs" / "_ext"))
import key_reference  # noqa: E402


def test_the_key_reference_in_the_docs_is_the_generated_one():
    text = key_reference.PAGE.read_text(encoding="utf-8")
    assert key_reference.current(text) == key_reference.block(), (
        "docs/scenarios.md's key reference drifted from simcore.scenario.SCHEMA; run "
        "python docs/_ext/key_reference.py")


def test_every_schema_key_is_in_the_reference():
    ref = scenario.key_reference()
    for head, prefix, schema in scenario._sections():
        assert f"### {head}" in ref
        for k in schema:
            assert f"| `{prefix}{k}` |" in ref, (prefix, k)


@pytest.mark.parametrize("name", ["inventory_days", "inventory_tau", "dependency", "rationing",
                                  "alpha_max", "alpha_tau", "origin_stocks"])
def test_model_keys_take_their_rule_from_the_parameter(name):
    assert scenario.SCHEMA["model"][name][0] is rule_of(DynamicParams, name)


@pytest.mark.parametrize("name, bad, allowed", [
    ("inventory_days", 0.5, ">= 1 day"), ("dependency", 1.5, "0..1"),
    ("rationing", "fifo", "proportional or firms_first"), ("alpha_max", 0.9, ">= 1"),
])
def test_one_rule_for_files_and_python(name, bad, allowed):
    rule = rule_of(DynamicParams, name)
    assert rule.allowed == allowed and rule(bad) is not None
    with pytest.raises(ParameterError, match=f"allowed: {allowed}"):
        DynamicParams(**{name: bad})
    d = {"schema": 1, "name": "x", "table": {"dataset": "miller-blair-2.3"},
         "horizon": {"days": 10}, "model": {name: bad}}
    with pytest.raises(ScenarioError, match=f"model.{name}"):
        scenario.load(d)
