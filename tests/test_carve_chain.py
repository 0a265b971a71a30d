"""The carve-out chain builds one labelled table (issue 14): carve_spec.carve carves every
product on flat arrays and builds and validates the result once; the result equals the
step-by-step public transforms'."""

from __future__ import annotations

import numpy as np

from simcore import datasets, scenario, tables, transform
from simcore import carve_spec as re_


def test_carve_builds_one_table_equal_to_the_public_steps(monkeypatch):
    sc = scenario.load("kiuchi-2025-3m")
    spec = sc.carve_spec()
    base = datasets.load(sc.data["table"]["dataset"])
    calls = []
    real = tables.from_arrays
    monkeypatch.setattr(tables, "from_arrays", lambda *a, **k: calls.append(1) or real(*a, **k))
    out = re_.carve(base, spec)
    monkeypatch.undo()
    assert len(calls) == 1
    # the same products carved one public transform at a time, with the shares carve used
    hist = tables.history(out)[-len(spec["products"]):]
    step = base
    for h in hist:
        p = dict(h["parameters"])
        if h["name"] == "carve_out":
            step = transform.carve_out(step, p.pop("parent"), p.pop("new"), **p)
        else:
            step = transform.carve_out_merged(step, p["parents"], p["new"],
                                              name_en=p["name_en"], name_ja=p["name_ja"])
    assert list(step.sector.values) == list(out.sector.values)
    for k in ("Z", "Y", "E", "M", "V", "x"):
        np.testing.assert_array_equal(step[k].values, out[k].values)
    assert tables.history(step) == tables.history(out)
