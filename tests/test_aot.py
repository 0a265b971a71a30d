"""The kernels compiled ahead of time (:mod:`simcore.dynamic._aot`, issue 17): the same
bits as numba's JIT kernels, used only when their stamp and argument types match, the GIL
released, and a single run that imports no numba.

Where the installation has not built the module in the source tree (``pip install .``
does, through simcore/_build_hook.py), these tests build it into a temporary folder and
load it from there, so nothing here is skipped for want of a build.  CI sets
``SIMCORE_REQUIRE_AOT=1``: there the installed module must be the one in use."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from simcore import calibrate, scenario
from simcore.dynamic import _aot

ROOT = Path(__file__).resolve().parent.parent
REQUIRE = os.environ.get("SIMCORE_REQUIRE_AOT") == "1"


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    """The compiled module: the installed one when it may be used, else one built now."""
    _aot.reset()
    m = _aot._module()
    if m is not None:
        return m
    assert not REQUIRE, f"SIMCORE_REQUIRE_AOT=1 but the compiled kernels are not used: " \
                        f"{_aot.status()['why']}"
    out = tmp_path_factory.mktemp("aot")
    saved = dict(_aot._state)
    path = _aot.build(out)
    spec = importlib.util.spec_from_file_location(_aot.MODULE, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    _aot._state.clear()
    _aot._state.update(saved)
    assert int(mod.aot_stamp()) == _aot.stamp()
    return mod


@pytest.fixture
def use(compiled, monkeypatch):
    """Make ``compiled`` the module :func:`_aot.kernel` resolves (and forget it after)."""
    _aot.reset()
    monkeypatch.setitem(_aot._state, "module", compiled)
    monkeypatch.setitem(_aot._state, "why", "")
    yield compiled
    _aot.reset()


def _copy(args):
    return [a.copy() if isinstance(a, np.ndarray) else a for a in args]


def _capture(monkeypatch, name):
    """Record the arguments of every ``_aot.call(name, ...)`` (copies, before the call)."""
    seen = []
    real = _aot.call

    def spy(n, *a):
        if n == name:
            seen.append(_copy(a))
        return real(n, *a)

    monkeypatch.setattr(_aot, "call", spy)
    return seen


def _same(a, b):
    assert len(a) == len(b)
    for i, (x, y) in enumerate(zip(a, b)):
        if isinstance(x, np.ndarray):
            np.testing.assert_array_equal(x, y, err_msg=f"argument {i}")
        else:
            assert x == y


@pytest.mark.parametrize("name", ["kiuchi-2025-3m", "vary-stocks-30",
                                  "rare-earth-data-driven-12m"])
def test_fused_kernel_compiled_equals_jit(use, monkeypatch, name):
    """Every output array of the compiled fused kernel equals the JIT kernel's, bit for bit,
    on the arguments shipped scenarios pass (stocks per origin, stockpiles, records)."""
    seen = _capture(monkeypatch, "run_fused")
    scenario.load(ROOT / "scenarios" / f"{name}.toml").run()
    assert seen, "the run did not call the fused kernel through simcore.dynamic._aot"
    a, j = _copy(seen[0]), _copy(seen[0])
    assert _aot._checker(_aot.SIGNATURES["run_fused"])(tuple(a))
    st_a = use.run_fused(*a)
    st_j = _aot.jit("run_fused")(*j)
    assert st_a == st_j == 0
    _same(a, j)
    assert np.any(a[27] != 0)  # gdp_loss: the comparison is not between two zero arrays


def test_lane_kernel_compiled_equals_jit(use, monkeypatch):
    """A block of 32 band draws: the compiled lane kernel's outputs equal the JIT's."""
    seen = _capture(monkeypatch, "run_block")
    sc = scenario.load(ROOT / "scenarios" / "kiuchi-2025-3m.toml")
    calibrate.run_bands(sc, 32, posterior=calibrate.load_posterior(), seed=3, level=0.9)
    assert seen
    a, j = _copy(seen[0]), _copy(seen[0])
    use.run_block(*a)
    _aot.jit("run_block")(*j)
    _same(a, j)
    assert np.any(a[25] != 0)  # gdp_loss of the block


def test_compiled_lane_kernel_releases_the_gil(use, monkeypatch):
    """While the compiled lane kernel runs on a thread, Python code runs on another (the
    wrapper is built with numba's nogil flag): with the GIL held, the counting loop below
    could not advance until the kernel returned."""
    seen = _capture(monkeypatch, "run_block")
    sc = scenario.load(ROOT / "scenarios" / "kiuchi-2025-3m.toml")
    calibrate.run_bands(sc, 32, posterior=calibrate.load_posterior(), seed=3, level=0.9)
    a = _copy(seen[0])
    th = threading.Thread(target=use.run_block, args=a)
    count = 0
    th.start()
    while th.is_alive():
        count += 1
    th.join()
    assert count > 1000, count


def test_types_the_signature_does_not_take_go_to_the_jit(use, monkeypatch):
    """The compiled wrapper does not check dtypes, ranks or layout: the argument check
    sends anything else to the JIT kernel, with the same result."""
    seen = _capture(monkeypatch, "run_fused")
    scenario.load(ROOT / "scenarios" / "kiuchi-2025-3m.toml").run()
    good = tuple(seen[0])
    ok = _aot._checker(_aot.SIGNATURES["run_fused"])
    assert ok(good)
    bad_dtype = list(good)
    bad_dtype[1] = good[1].astype(np.int64)          # 64-bit signed row indices
    bad_layout = list(good)
    bad_layout[2] = np.repeat(good[2], 2)[::2]       # a strided view
    bad_rank = list(good)
    bad_rank[14] = good[14].ravel()                  # impcap 1-D
    bad_int = list(good)
    bad_int[24] = True                               # a bool for ration_mode
    bad_float = list(good)
    bad_float[11] = "0.5"                            # inv_tau as text
    for b in (bad_dtype, bad_layout, bad_rank, bad_int, bad_float):
        assert not ok(tuple(b))
    assert not ok(good[:-1])
    # a call with 64-bit row indices runs on the JIT kernel (the compiled one is never
    # called with them), with the same bits as the compiled kernel on the right types
    ref_args, args = _copy(good), _copy(bad_dtype)
    called = []
    monkeypatch.setattr(use, "run_fused", lambda *a: called.append(1) or -1, raising=False)
    assert _aot.call("run_fused", *args) == 0 and not called
    monkeypatch.undo()
    assert use.run_fused(*ref_args) == 0
    for i in range(27, len(args)):
        if isinstance(args[i], np.ndarray):
            np.testing.assert_array_equal(args[i], ref_args[i])


def test_stale_or_disabled_module_is_not_used(compiled, monkeypatch):
    """A module built from other sources (or for another processor) is not used, nor is
    any when SIMCORE_AOT=0; the JIT kernel runs and status says why."""
    monkeypatch.setitem(sys.modules, _aot.MODULE, compiled)
    _aot.reset()
    monkeypatch.setitem(sys.modules, _aot.MODULE, compiled)
    monkeypatch.setattr(_aot, "stamp", lambda: int(compiled.aot_stamp()) ^ 1)
    try:
        assert _aot._module() is None
        assert "stale" in _aot.status()["why"]
        assert _aot.kernel("run_fused") is _aot.jit("run_fused")
    finally:
        _aot.reset()
    monkeypatch.setenv("SIMCORE_AOT", "0")
    try:
        assert _aot.status() == {"used": False, "module": None, "why": "disabled (SIMCORE_AOT=0)",
                                 "kernels": sorted(_aot.KERNELS)}
        assert _aot.kernel("run_block") is _aot.jit("run_block")
    finally:
        _aot.reset()
    with pytest.raises(KeyError, match="unknown kernel 'nope'"):
        _aot.kernel("nope")


def test_stamp_covers_the_kernel_sources():
    """The stamp changes with any kernel source, signature or processor feature list."""
    base = _aot.stamp()
    assert 0 <= base < 2**63
    assert "dynamic/_fused.py" in _aot.SOURCES and "dynamic/_lanes.py" in _aot.SOURCES
    assert all((ROOT / "simcore" / s).is_file() for s in _aot.SOURCES)
    # every simcore module a compiled kernel's code can come from (the kernel modules and
    # what their globals come from, recursively) is in SOURCES
    import importlib
    import types

    todo, seen = list(_aot.KERNELS.values()), set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for v in vars(importlib.import_module(name)).values():
            mod = v.__name__ if isinstance(v, types.ModuleType) else \
                getattr(getattr(v, "py_func", v), "__module__", None)
            if isinstance(mod, str) and mod.startswith("simcore.") and mod != name:
                todo.append(mod)
    files = {str(Path(sys.modules[m].__file__).resolve().relative_to(ROOT / "simcore"))
             for m in seen}
    assert {"dynamic/_kernels.py", "dynamic/_bundles.py", "_jit.py"} <= files
    assert files <= set(_aot.SOURCES), files - set(_aot.SOURCES)
    saved = _aot.SIGNATURES["run_block"]
    try:
        _aot.SIGNATURES["run_block"] = saved.replace("i8", "i4", 1)
        assert _aot.stamp() != base
    finally:
        _aot.SIGNATURES["run_block"] = saved
    assert _aot.stamp() == base


@pytest.mark.parametrize("argv, heavy, printed", [
    (["run", "kiuchi-2025-3m"], ["numba", "scipy"], "value-added loss:"),
    (["reproduce", "--draws", "8"], ["numba", "scipy"],
     "medians and 90 % bands over 8 stratified posterior draws"),
])
def test_commands_import_no_numba(argv, heavy, printed):
    """With the compiled kernels in place, ``simcore run`` never imports numba (nor scipy,
    which numba's start-up imports): the run pays neither.  ``simcore reproduce``
    (calibration, every reference figure, the bands' posterior draws as lane blocks)
    imports no numba either, and no scipy at all: its calibration no ``scipy.optimize``
    (:func:`simcore.calibrate.root_in_bracket`), its reading of the posterior no
    ``scipy.io`` (:mod:`simcore._netcdf3`), its stratified draws no ``scipy.interpolate``
    (:meth:`simcore.calibrate.Posterior.strata_key`)."""
    _aot.reset()
    if _aot._module() is None:
        assert not REQUIRE, _aot.status()["why"]
        pytest.skip("the compiled kernels are not built in the source tree "
                    f"({_aot.status()['why']}); `pip install .` builds them")
    # (and the command did its work: for reproduce, the bands' draws ran)
    code = ("import sys, io, contextlib\nfrom simcore.cli import main\n"
            "buf = io.StringIO()\n"
            "with contextlib.redirect_stdout(buf):\n"
            f"    rc = main({argv!r})\n"
            f"print(rc, {printed!r} in buf.getvalue(), "
            f"*[m in sys.modules for m in {heavy!r}])")
    env = {k: v for k, v in os.environ.items() if k != "SIMCORE_AOT"}
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       cwd=ROOT, env=env)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["0", "True"] + ["False"] * len(heavy), p.stdout + p.stderr


def _kernel_tree(dst: Path) -> Path:
    """A source tree holding just what building the kernels imports."""
    src = ROOT / "simcore"
    files = ["__init__.py", "_version.py", "dynamic/__init__.py"] + list(_aot.SOURCES)
    for rel in files:
        (dst / "simcore" / rel).parent.mkdir(parents=True, exist_ok=True)
        (dst / "simcore" / rel).write_bytes((src / rel).read_bytes())
    return dst


def test_build_hook_compiles_into_the_tree_and_the_wheel(tmp_path, monkeypatch, capsys):
    """The install's build hook (simcore/_build_hook.py) writes the module into the source
    tree and hands it to the wheel; a failed build leaves a pure-Python wheel and says why
    on standard error; SIMCORE_AOT_BUILD=0 skips it."""
    from simcore import _build_hook as hook

    root = _kernel_tree(tmp_path / "ok")
    h = hook.AOTBuildHook.__new__(hook.AOTBuildHook)
    h.root = str(root)
    data: dict = {}
    h.initialize("standard", data)
    (so,) = (root / "simcore").glob("_aot_kernels*")
    assert data["force_include"] == {str(so): f"simcore/{so.name}"}
    assert data["pure_python"] is False and data["infer_tag"] is True
    spec = importlib.util.spec_from_file_location(_aot.MODULE, so)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert int(mod.aot_stamp()) == _aot.stamp()  # built from the same sources
    data = {}
    h.initialize("editable", data)  # in place: nothing to add to the wheel
    assert "force_include" not in data and data["pure_python"] is False
    # a kernel source that does not compile: no module, the wheel stays pure Python
    bad = _kernel_tree(tmp_path / "bad")
    (bad / "simcore" / "dynamic" / "_fused.py").write_text("this is not python\n")
    h.root = str(bad)
    data = {}
    h.initialize("standard", data)
    assert data == {} and not list((bad / "simcore").glob("_aot_kernels*"))
    assert "compiling the kernels ahead of time failed" in capsys.readouterr().err
    monkeypatch.setenv("SIMCORE_AOT_BUILD", "0")
    h.root = str(root)
    h.initialize("standard", data)
    assert data == {}
