"""docs/scenarios.md's key reference is generated from the scenario schema, and the schema
takes the rules of the engine's scalar parameters from their definitions (issue 14)."""

from __future__ import annotations

import re
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


# --------------------------------------------------------------------------------------
# shocks, the ARIO engine, stockpiles and substitution: one rule each (issue 14)
# --------------------------------------------------------------------------------------
from simcore._schema import Num  # noqa: E402
from simcore.dynamic import shocks as _shocks  # noqa: E402
from simcore.dynamic.ario import ARIOParams  # noqa: E402
from simcore.dynamic.params import Stockpile, Substitution  # noqa: E402
from simcore.errors import ShockError  # noqa: E402

_SHOCK_ARGS = {"import_cut": dict(product="1", origin="CHN", share=0.5, duration=10),
               "export_cut": dict(product="1", origin="R0", share=0.5, duration=10),
               "capacity_loss": dict(sector="1", share=0.5, duration=10),
               "demand_change": dict(sector="1", change=-0.5, duration=10)}


def _shock_fields():
    for kind, cls in _shocks.SHOCK_KINDS.items():
        for f in __import__("dataclasses").fields(cls):
            if "rule" in f.metadata:
                yield kind, cls, f.name


@pytest.mark.parametrize("kind, cls, name", list(_shock_fields()))
def test_shock_keys_take_their_rule_from_the_shock(kind, cls, name):
    entry = scenario.SCHEMA["shocks"][0][name]
    assert entry[0] is rule_of(cls, name)
    assert kind in entry[1] or name in ("start", "duration", "profile", "ramp_days",
                                        "recovery_days")


def _range_cases():
    """Every numeric shock field: a value just outside its rule's range, below and above."""
    for kind, cls, name in _shock_fields():
        rule = rule_of(cls, name)
        if not isinstance(rule, Num):
            continue
        if rule.lo is not None:
            yield kind, cls, name, rule.lo - 0.5, "below"
        if rule.hi is not None:
            yield kind, cls, name, rule.hi * 1.5 + 1, "above"


@pytest.mark.parametrize("kind, cls, name, bad, side", list(_range_cases()))
def test_one_shock_rule_for_files_python_and_docs(kind, cls, name, bad, side):
    rule = rule_of(cls, name)
    assert rule(bad) is not None
    # Python: the shock names itself, the field and the bound its rule declares
    with pytest.raises(ShockError, match=rf"{cls.__name__}\(.*\): {name} = .* is {side} "):
        cls(**{**_SHOCK_ARGS[kind], name: bad})
    # a scenario file: the key and what was expected
    d = {"schema": 1, "name": "x", "table": {"dataset": "miller-blair-2.3"},
         "horizon": {"days": 10}, "shocks": [{"kind": kind, **_SHOCK_ARGS[kind], name: bad}]}
    with pytest.raises(ScenarioError, match=rf"'shocks\[0\]\.{name}' = .* expected "):
        scenario.load(d)
    # the key reference of docs/scenarios.md states the same range
    text = key_reference.PAGE.read_text(encoding="utf-8")
    row = next(line for line in text.splitlines() if line.startswith(f"| `shocks[].{name}` |"))
    assert f"| {rule.allowed} |" in row


@pytest.mark.parametrize("name", list(scenario.SCHEMA["model"]["ario"]))
def test_ario_keys_take_their_rule_from_the_parameter(name):
    assert scenario.SCHEMA["model"]["ario"][name][0] is rule_of(ARIOParams, name)
    text = key_reference.PAGE.read_text(encoding="utf-8")
    row = next(line for line in text.splitlines()
               if line.startswith(f"| `model.ario.{name}` |"))
    assert row.split(" | ")[1] == rule_of(ARIOParams, name).type


@pytest.mark.parametrize("name, bad, allowed", [
    ("alpha_base", 0.9, ">= 1"), ("alpha_tau", 0, "> 0 day"), ("psi", 0, "> 0, <= 1"),
    ("main_inv_dur", 1, "> 1 day, or inf"), ("inventory_restoration_tau", 0.5, ">= 1 day"),
    ("order_type", "x", "alt or noalt"), ("input_threshold", -1, ">= 0"),
    ("inventory_duration", {"1": 0.5}, "> 1 day, or inf"),
])
def test_one_ario_rule_for_files_and_python(name, bad, allowed):
    rule = rule_of(ARIOParams, name)
    assert rule.allowed == allowed and rule(bad) is not None
    with pytest.raises(ParameterError, match=rf"'{name}' = .* allowed: {re.escape(allowed)}"):
        ARIOParams(**{name: bad})
    d = {"schema": 1, "name": "x", "table": {"dataset": "miller-blair-2.3"},
         "horizon": {"days": 10}, "model": {"engine": "ario", "ario": {name: bad}}}
    with pytest.raises(ScenarioError, match=rf"model\.ario\.{name}"):
        scenario.load(d)


def test_ario_inf_inventory_is_one_rule():
    # inf (a target that never binds) is allowed in Python and in a scenario file alike
    assert ARIOParams(main_inv_dur=float("inf")).main_inv_dur == float("inf")
    d = {"schema": 1, "name": "x", "table": {"dataset": "miller-blair-2.3"},
         "horizon": {"days": 10}, "model": {"engine": "ario",
                                            "ario": {"main_inv_dur": float("inf")}}}
    assert scenario.load(d).params().main_inv_dur == float("inf")
    with pytest.raises(ParameterError, match="main_inv_dur"):
        ARIOParams(main_inv_dur=float("nan"))


@pytest.mark.parametrize("cls, key, name, bad", [
    (Stockpile, "stockpiles", "days", -1), (Stockpile, "stockpiles", "release_rate", -0.1),
    (Substitution, "substitution", "headroom", 1.5),
    (Substitution, "substitution", "tau_days", 0),
])
def test_stockpile_and_substitution_rules(cls, key, name, bad):
    assert scenario.SCHEMA["model"][key][0].value.schema[name][0] is rule_of(cls, name)
    allowed = rule_of(cls, name).allowed
    base = {"days": 3} if cls is Stockpile else {"headroom": 0.5}
    with pytest.raises(ParameterError, match=rf"{re.escape(allowed)}$"):
        cls(**{**base, name: bad})


def test_shock_kinds_need_the_fields_without_default():
    # the bullets of docs/scenarios.md say what Scenario.validate derives from the classes
    text = key_reference.PAGE.read_text(encoding="utf-8")
    import dataclasses
    for kind, cls in _shocks.SHOCK_KINDS.items():
        need = [f.name for f in dataclasses.fields(cls) if f.default is dataclasses.MISSING
                and f.default_factory is dataclasses.MISSING]
        words = ", ".join(f"`{n}`" for n in need[:-1]) + f" and `{need[-1]}`"
        assert re.search(rf"- `{kind}`.* needs {re.escape(words)}", text), kind
        d = {"schema": 1, "name": "x", "table": {"dataset": "miller-blair-2.3"},
             "horizon": {"days": 10},
             "shocks": [{"kind": kind, **{k: v for k, v in _SHOCK_ARGS[kind].items()
                                          if k != need[-1]}}]}
        with pytest.raises(ScenarioError, match=rf"kind '{kind}' needs key '{need[-1]}'"):
            scenario.load(d)
