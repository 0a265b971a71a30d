"""The layers of simcore, lowest first, and the modules in each.

A module may import modules of its own layer and of the layers below it, never of a layer
above, and no chain of imports may lead back to where it started (no cycles), counting the
imports inside functions too.  ``tests/test_architecture.py`` enforces both over the syntax
tree of every module; ``docs/architecture.md`` shows the same table.

Imports inside functions are kept for optional dependencies (matplotlib, dask, emcee,
pymrio, ...); an intra-package import inside a function is allowed only where
:data:`LAZY` names it, with the reason.
"""

from __future__ import annotations

__all__ = ["LAYERS", "LAZY", "UPWARD", "layer_of", "markdown"]

#: Layer name -> (what it holds, module patterns).  A pattern ending in ``.*`` covers a
#: package's submodules.  Lowest layer first.
LAYERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "base": ("errors, version, atomic writes, TOML and NetCDF-3 reading, the JIT policy, "
             "shared checks, value rules",
             ("simcore._version", "simcore.errors", "simcore._checks", "simcore._atomic",
              "simcore._jit", "simcore._nodask", "simcore._progress", "simcore._toml",
              "simcore._netcdf3",
              "simcore._layers", "simcore._schema", "simcore._build_hook")),
    "data": ("the IO table data model and the embedded datasets",
             ("simcore.tables", "simcore.tables.*", "simcore.datasets",
              "simcore.datasets.*")),
    "transforms": ("operations from tables to tables: aggregation, carve-outs, rescaling, "
                   "preprocessing, the carve-out spec, pymrio conversion",
                   ("simcore.transform", "simcore.carve_spec", "simcore.mrio_carve",
                    "simcore.pymrio_bridge")),
    "engines": ("the models: static models, the supply-chain engine, the ARIO engine, the "
                "numba kernels and their numpy references, shocks and parameters",
                ("simcore.static", "simcore.dynamic", "simcore.dynamic.*")),
    "run": ("the engine-neutral run layer: the horizon and its auto-extension, the engines "
            "a scenario can choose, scenario shocks on the ARIO engine and its result in the "
            "common vocabulary",
            ("simcore.run",)),
    "front": ("what users call: scenario files, sweeps, calibration, reference figures, "
              "the CLI, plots, the pytest plugin, the package facade",
              ("simcore", "simcore.scenario", "simcore.criticality", "simcore.sweeps",
               "simcore.sweeps.*",
               "simcore.calibrate", "simcore._bayes", "simcore.references",
               "simcore.testing", "simcore.pytest_plugin", "simcore.cli", "simcore.plot",
               "simcore._accessor")),
}

#: Intra-package imports made inside a function on purpose: (importer, imported) -> reason.
LAZY: dict[tuple[str, str], str] = {
    ("simcore._accessor", "simcore.plot"):
        "result.simcore's plot methods: matplotlib (optional) is needed only when called",
    ("simcore.pytest_plugin", "simcore.references"):
        "the pytest plugin loads in every pytest run of a project that installs simcore; "
        "it imports nothing heavy until reference tests are asked for",
    ("simcore.pytest_plugin", "simcore.testing"):
        "as simcore.references (the plugin stays light)",
    ("simcore.pytest_plugin", "simcore.errors"):
        "as simcore.references (the plugin stays light)",
    ("simcore.cli", "simcore.scenario"):
        "the command line's start-up: `simcore --help`, `--version` and argument errors "
        "import only the standard library and the base layer (no numpy, xarray or numba); "
        "each subcommand imports what it runs",
    ("simcore.cli", "simcore.calibrate"): "as simcore.scenario (the command line stays light)",
    ("simcore.cli", "simcore.references"): "as simcore.scenario (the command line stays light)",
    ("simcore.cli", "simcore.sweeps"): "as simcore.scenario (the command line stays light)",
    ("simcore.cli", "simcore.tables"): "as simcore.scenario (the command line stays light)",
    ("simcore.cli", "simcore.plot"): "as simcore.scenario; matplotlib (optional) only for "
                                     "--plot",
}

_JIT_LAZY = ("numba is imported only when a JIT kernel runs: simulate's default layout "
             "calls the fused kernel through simcore.dynamic._aot (compiled ahead of time "
             "when installed), so a single run imports no numba")
LAZY.update({
    ("simcore.dynamic.supply_chain", "simcore.dynamic._rows"): _JIT_LAZY,
    ("simcore.dynamic.supply_chain", "simcore.dynamic._fused"): _JIT_LAZY,
    ("simcore.dynamic.supply_chain", "simcore.dynamic._kernels"): _JIT_LAZY,
    ("simcore.dynamic.ario", "simcore.dynamic._ario_kernels"): _JIT_LAZY,
    ("simcore.dynamic.mrio", "simcore.dynamic._mrio_kernels"): _JIT_LAZY,
})

#: Imports of a higher layer allowed from a lower one: (importer, imported) -> reason.
UPWARD: dict[tuple[str, str], str] = {
    ("simcore.datasets._build_mrio", "simcore.transform"):
        "the maintainer's build script of the embedded multi-regional table (python -m "
        "simcore.datasets._build) aggregates and carves the Japan table; nothing imports it "
        "at run time",
    ("simcore.datasets._build_mrio", "simcore.carve_spec"):
        "as above: the build script carves rare earths and magnets out of the Japan table",
    ("simcore.dynamic.supply_chain", "simcore._accessor"):
        "registers xarray's result.simcore accessor when a result-producing engine is "
        "imported (xarray's plug-in mechanism); the accessor reaches simcore.plot only "
        "inside its methods",
}


def layer_of(module: str) -> str:
    """The layer of a module of simcore; a :class:`KeyError` for one not declared."""
    for name, (_, patterns) in LAYERS.items():
        for pat in patterns:
            if module == pat or (pat.endswith(".*") and module.startswith(pat[:-1])):
                return name
    raise KeyError(f"module {module!r} is in no layer of simcore._layers.LAYERS")


def markdown() -> str:
    """The layer table of ``docs/architecture.md`` (a test keeps the page equal to it)."""
    rows = ["| Layer | Holds | Modules | May import |", "|---|---|---|---|"]
    names = list(LAYERS)
    for i, (name, (what, mods)) in enumerate(LAYERS.items()):
        below = ", ".join(names[:i + 1])
        rows.append(f"| {name} | {what} | {', '.join(f'`{m}`' for m in mods)} | {below} |")
    rows += ["", "Declared exceptions:", ""]
    for (a, b), why in {**UPWARD}.items():
        rows.append(f"- upward: `{a}` imports `{b}`: {why}.")
    for (a, b), why in LAZY.items():
        rows.append(f"- inside a function: `{a}` imports `{b}`: {why}.")
    return "\n".join(rows)
