"""Helpers for tests that check published figures by hand.

- :func:`assert_reproduces` checks the ``[[reference]]`` figures of a scenario (all, or one
  by id, optionally with a tolerance of your own) and fails like an ``assert`` with
  published, model, tolerance, the scenario and its overrides.
- :func:`scenario_result` returns a scenario's result, computed once per process; the
  ``simcore_result`` fixture of simcore's pytest plugin returns this function.

Calibrations declared in the scenario file run first (once), exactly as in ``simcore
reproduce`` and the plugin's ``--simcore-references``: the three share one cache.

Example (a test file of your own project)::

    from simcore.testing import assert_reproduces

    def test_textbook_figure():
        assert_reproduces("scenarios/textbook-demand-drop.toml")

    def test_with_a_tighter_tolerance():
        assert_reproduces("scenarios/textbook-demand-drop.toml",
                          "mb-2.3-demand-drop-gdp-share", rtol=0.01)

    def test_sector_breakdown(simcore_result):
        res = simcore_result("scenarios/textbook-demand-drop.toml")
        assert float(res.value_added_loss.sel(sector="2")) > 0
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .errors import ScenarioError
from .references import Check, ReferenceMismatch, default_runner, references_of

__all__ = ["assert_reproduces", "scenario_result", "ReferenceMismatch"]


def assert_reproduces(scenario: Any, reference_id: str | None = None, rtol: float | None = None,
                      atol: float | None = None) -> Check | list[Check]:
    """Assert that the model reproduces a scenario's published figures.

    Parameters
    ----------
    scenario : str, Path, Scenario or dict
        A scenario file, a shipped scenario name, a loaded :class:`~simcore.scenario.Scenario`
        or a scenario dict.
    reference_id : str, optional
        Check only this ``[[reference]]`` (default: every one of the scenario).
    rtol, atol : float, optional
        Replace the file's tolerance by ``atol + rtol * |published|`` (a missing one counts as
        0).  Default: each reference's own ``tolerance``.

    Returns
    -------
    Check or list of Check
        The check of ``reference_id``, or of every reference.

    Raises
    ------
    ReferenceMismatch
        (an ``AssertionError``) when a figure is outside its tolerance; the message gives
        published, model, error, tolerance, the scenario, its overrides and the source.
    ScenarioError
        When the scenario is invalid, has no ``[[reference]]``, or no reference
        ``reference_id``.
    """
    runner = default_runner()
    sc = runner.scenario(scenario)
    refs = references_of(sc)
    if not refs:
        raise ScenarioError(f"{sc.file}: no [[reference]] figures to check")
    if reference_id is not None:
        refs = [r for r in refs if r.id == reference_id]
        if not refs:
            raise ScenarioError(f"{sc.file}: no [[reference]] with id {reference_id!r}; ids: "
                                + ", ".join(r.id for r in references_of(sc)))
    checks = [runner.check(r, rtol=rtol, atol=atol) for r in refs]
    bad = [c for c in checks if not c.ok]
    if bad:
        raise ReferenceMismatch(
            f"{len(bad)} of {len(checks)} published figure(s) not reproduced\n"
            + "\n".join(c.report() for c in bad))
    return checks[0] if reference_id is not None else checks


def scenario_result(scenario: Any, overrides: Mapping[str, Any] | None = None,
                    calibrated: bool = True) -> Any:
    """A scenario's result, computed once per process for each scenario and overrides.

    Parameters
    ----------
    scenario : str, Path, Scenario or dict
        As in :func:`assert_reproduces`.
    overrides : mapping, optional
        Dotted-key overrides, e.g. ``{"model.inventory_days": 30}``.
    calibrated : bool
        Run the file's ``[calibration]`` first and use the fitted value (default), as the
        reference checks do; ``overrides`` win over it.

    Returns
    -------
    xarray.Dataset
        The result of :meth:`simcore.scenario.Scenario.run`; treat it as read-only, it is
        shared by every caller.
    """
    if isinstance(scenario, (str, Path)) or hasattr(scenario, "data") or isinstance(
            scenario, Mapping):
        return default_runner().result(scenario, overrides, calibrated=calibrated)
    raise ScenarioError(f"scenario: expected a file, a shipped name, a Scenario or a dict, got "
                        f"{type(scenario).__name__}")
