"""numba's on-disk cache never serves a kernel compiled from other sources
(:mod:`simcore._jit`): numba checks only the text of the kernel's own file, so a kernel
whose helper in another file was edited would keep its old machine code; simcore's
:func:`~simcore._jit.njit` adds a hash of every kernel source to the stamp numba checks."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from simcore import _jit

PKG = Path(_jit.__file__).resolve().parent


def _kernel_modules() -> set[str]:
    """Package files that import ``njit`` or ``njit_parallel`` from simcore's JIT policy."""
    out = set()
    for p in PKG.rglob("*.py"):
        if "_source" in p.parts:
            continue
        tree = ast.parse(p.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").endswith("_jit") \
                    and {a.name for a in node.names} & {"njit", "njit_parallel"}:
                out.add(p.relative_to(PKG).as_posix())
    return out


def test_every_module_with_kernels_is_a_kernel_source():
    mods = _kernel_modules()
    assert "dynamic/_fused.py" in mods and "dynamic/_cycles.py" in mods
    assert mods <= set(_jit.KERNEL_SOURCES), sorted(mods - set(_jit.KERNEL_SOURCES))
    for rel in _jit.KERNEL_SOURCES:
        assert (PKG / rel).is_file(), rel


def test_cached_kernels_check_every_kernel_source(tmp_path):
    """The stamp of a cached kernel holds the hash of the kernel sources (numba's cache
    internals as simcore reads them: this fails if a numba release moves them)."""
    from simcore.dynamic import _fused, _lanes

    for k in (_fused.run_fused, _lanes.run_block):
        stamp = k._cache._cache_file._source_stamp
        assert isinstance(stamp, tuple) and stamp[1] == _jit.sources_hash()
    # the hash follows the text of every source
    root = tmp_path / "pkg"
    for rel in _jit.KERNEL_SOURCES:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(PKG / rel, root / rel)
    h0 = _jit.sources_hash(root)
    assert h0 == _jit.sources_hash()
    p = root / "dynamic" / "_cycles.py"
    p.write_text(p.read_text() + "\n# an edit\n")
    _jit._HASH.pop(root)
    assert _jit.sources_hash(root) != h0


_PROBE = textwrap.dedent("""
    import numpy as np
    from simcore.dynamic._lanes import _bound_with_ces_lane
    one = np.ones((1, 1))
    print(repr(_bound_with_ces_lane(0, 1, np.zeros(1, dtype=np.int64), 0.5 * one, 0.1 * one,
                                    5.0 * one, 5.0 * one, 0.5 * one, np.array([2.0]), 10.0, 0)))
""")


def test_an_edited_helper_in_another_file_recompiles_the_kernel(tmp_path):
    """A copy of the package: a kernel of ``_lanes.py`` (the CES input bound) calls
    ``ces_ratio`` of ``_kernels.py``.  Run, edit ``ces_ratio`` alone, run again in a new
    process on the same on-disk cache: the second run's number is the edited helper's, not
    the cached kernel's."""
    dst = tmp_path / "simcore"
    for p in PKG.rglob("*.py"):
        rel = p.relative_to(PKG)
        if "__pycache__" in rel.parts or "_source" in rel.parts:
            continue
        (dst / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(p, dst / rel)
    env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_CACHE_DIR",
                                                            "NUMBA_DISABLE_JIT")}
    env["PYTHONPATH"] = str(tmp_path)
    env["SIMCORE_AOT"] = "0"

    def run() -> float:
        r = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True,
                           env=env, cwd=tmp_path, timeout=300)
        assert r.returncode == 0, r.stderr
        return float(r.stdout.strip().splitlines()[-1])

    before = run()
    assert list((dst / "dynamic" / "__pycache__").glob("_lanes*.nbi")), "nothing cached"
    k = dst / "dynamic" / "_kernels.py"
    text = k.read_text()
    assert text.count("    if q >= 1.0:\n        return 1.0\n") == 1
    k.write_text(text.replace("    if q >= 1.0:\n        return 1.0\n",
                              "    if q >= 0.0:\n        return 1.0\n"))
    after = run()
    assert before < 10.0 and after == 10.0, (before, after)
