"""Build hook (hatchling): compile the kernels ahead of time when simcore is installed.

``pip install .`` (and ``pip install -e .``) runs :class:`AOTBuildHook` before the wheel
is assembled: ``python -m simcore.dynamic._aot build`` in the build environment (numba,
numpy and setuptools come from ``[build-system] requires``) writes the extension module
``simcore/_aot_kernels.<platform>.so`` into the source tree, as an in-place build does, and
the wheel carries it (it is git-ignored, so it never lands in a commit or an sdist).  See
:mod:`simcore.dynamic._aot` for when the module is used.

A failed build (no C compiler, a numba without ``numba.pycc``) does not fail the
installation: the wheel is then pure Python and the kernels are numba's JIT, and the hook
says so on the build's output (``pip install -v``).  ``SIMCORE_AOT_BUILD=0`` skips it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

try:
    from hatchling.builders.hooks.plugin.interface import BuildHookInterface
except ImportError:  # only hatchling imports this module, while it builds a wheel
    BuildHookInterface = object  # type: ignore[assignment,misc]


def build_in_tree(root: str | os.PathLike) -> Path | None:
    """Compile the kernels into ``<root>/simcore`` in a child process; return the module
    written, or ``None`` with the reason printed to standard error."""
    root = Path(root)
    env = dict(os.environ)
    env["PYTHONPATH"] = str(root) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("SIMCORE_AOT", None)
    p = subprocess.run([sys.executable, "-m", "simcore.dynamic._aot", "build",
                        "--out", str(root / "simcore")],
                       cwd=str(root), env=env, capture_output=True, text=True)
    if p.returncode != 0:
        tail = "\n".join((p.stdout + p.stderr).strip().splitlines()[-15:])
        print(f"simcore: compiling the kernels ahead of time failed (rc {p.returncode}); "
              f"the installation runs numba's JIT kernels instead.\n{tail}", file=sys.stderr)
        return None
    out = Path(p.stdout.strip().splitlines()[-1])
    return out if out.is_file() else None


class AOTBuildHook(BuildHookInterface):  # type: ignore[misc,valid-type]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if os.environ.get("SIMCORE_AOT_BUILD", "1") == "0":
            return
        so = build_in_tree(self.root)
        if so is None:
            return
        suffix = sysconfig.get_config_var("EXT_SUFFIX") or ""
        if not so.name.endswith(suffix):  # pragma: no cover - pycc names it for this Python
            print(f"simcore: {so.name} is not named for this Python ({suffix})",
                  file=sys.stderr)
            return
        if version != "editable":
            build_data.setdefault("force_include", {})[str(so)] = f"simcore/{so.name}"
        build_data["pure_python"] = False
        build_data["infer_tag"] = True
