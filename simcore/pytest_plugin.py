"""pytest plugin: published figures of scenario files as test items.

Registered through the ``pytest11`` entry point, so it is loaded wherever simcore is
installed, and does nothing unless asked for::

    pytest --simcore-references scenarios/          # files or folders, repeatable

or, in ``pytest.ini`` / ``[tool.pytest.ini_options]``::

    simcore_references = scenarios

Each ``[[reference]]`` block becomes one test item named ``file.toml::reference-id``, so
``-k 12m`` selects figures and a failure shows published, model, tolerance, the scenario and
its overrides.  Calibrations and scenario runs are shared by every reference (and every
:mod:`simcore.testing` call) of the session and run once.

The plugin also provides the ``simcore_result`` fixture (see :mod:`simcore.testing`).
Loading it imports nothing heavy: simcore's models are imported only when a reference is
collected or the fixture is used.  ``-p no:simcore`` disables it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

_ROOTS = pytest.StashKey[list]()
_HELP = ("collect every [[reference]] of the scenario files under PATH (a file or a folder, "
         "searched recursively) as a test item FILE::ID; repeatable")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("simcore", "simcore published-figure tests")
    group.addoption("--simcore-references", action="append", default=[], metavar="PATH",
                    dest="simcore_references", help=_HELP)
    parser.addini("simcore_references", type="paths", default=[],
                  help="scenario files or folders whose [[reference]] figures are collected "
                       "as tests (paths relative to the ini file)")


def pytest_configure(config: pytest.Config) -> None:
    inv = Path(config.invocation_params.dir)
    roots = [inv / p for p in config.getoption("simcore_references") or []]
    roots += [Path(p) for p in config.getini("simcore_references") or []]
    if not roots:
        return
    resolved: list[Path] = []
    for p in roots:
        if not p.exists():
            raise pytest.UsageError(f"simcore references: {p}: no such scenario file or folder")
        resolved.append(p.resolve())
    config.stash[_ROOTS] = resolved
    # collect the references even when they lie outside the paths pytest was given
    args = [Path(inv / a.split("::")[0]).resolve() for a in config.args]
    for p in resolved:
        if not any(p == a or a in p.parents for a in args):
            config.args.append(str(p))


def pytest_sessionstart(session: pytest.Session) -> None:
    if _ROOTS in session.config.stash:
        from . import references

        references.reset()


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> Any:
    roots = parent.config.stash.get(_ROOTS, None)
    if not roots or file_path.suffix != ".toml":
        return None
    path = file_path.resolve()
    for root in roots:
        if path == root:
            return ScenarioFile.from_parent(parent, path=file_path, explicit=True)
        if root in path.parents:
            return ScenarioFile.from_parent(parent, path=file_path, explicit=False)
    return None


class ScenarioFile(pytest.File):
    """A scenario file: one item per ``[[reference]]``."""

    def __init__(self, *args: Any, explicit: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.explicit = explicit

    def collect(self):
        from . import references

        if not self.explicit and not references.looks_like_scenario(self.path):
            return
        runner = references.default_runner()
        for ref in references.references_of(runner.scenario(self.path)):
            yield ReferenceItem.from_parent(self, name=ref.id, ref=ref)

    def repr_failure(self, excinfo, style=None):  # noqa: D102
        from .errors import SimcoreError

        if isinstance(excinfo.value, SimcoreError):
            return f"simcore: invalid scenario file: {excinfo.value}"
        return super().repr_failure(excinfo, style)


class ReferenceItem(pytest.Item):
    """One published figure: passes when the model is within the tolerance."""

    def __init__(self, *args: Any, ref: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ref = ref
        self.check: Any = None

    def runtest(self) -> None:
        from .references import ReferenceMismatch, default_runner

        self.check = default_runner().check(self.ref)
        c = self.check
        self.user_properties += [("published", c.published), ("model", c.model),
                                 ("unit", self.ref.unit), ("tolerance", c.tolerance),
                                 ("role", c.role)]
        if not c.ok:
            raise ReferenceMismatch(c.report())

    def repr_failure(self, excinfo, style=None):  # noqa: D102
        from .errors import SimcoreError
        from .references import ReferenceMismatch

        if isinstance(excinfo.value, ReferenceMismatch):
            return str(excinfo.value)
        if isinstance(excinfo.value, SimcoreError):
            return f"simcore: {type(excinfo.value).__name__}: {excinfo.value}"
        return super().repr_failure(excinfo, style)

    def reportinfo(self):  # noqa: D102
        return self.path, None, f"{self.ref.scenario}::{self.ref.id}"


@pytest.fixture(scope="session")
def simcore_result():
    """``simcore_result(scenario, overrides=None, calibrated=True)``: the scenario's result
    (an :class:`xarray.Dataset`), computed once per test session; see
    :func:`simcore.testing.scenario_result`."""
    from .testing import scenario_result

    return scenario_result
