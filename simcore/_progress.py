"""A minimal progress bar on stderr for long runs (sweeps).

On by default when stderr is a terminal or the code runs in a Jupyter kernel, silent
otherwise (so logs, pipes and CI stay clean); ``enabled=True`` forces it on,
``enabled=False`` off.  When tqdm is installed and no ``stream`` is given, the bar is
``tqdm.auto.tqdm`` (a widget in a notebook, a text bar in a terminal); otherwise a
hand-written bar on ``stream`` (default stderr), redrawn at most every ``min_interval``
seconds, with no dependency beyond the standard library.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["Progress"]


class Progress:
    """``Progress(total, "sweep")``; ``update(n)`` as work completes; ``close()`` at the end.

    Usable as a context manager.  ``done`` counts the units reported so far (including
    ``initial``, e.g. chunks already on disk when a sweep resumes).
    """

    def __init__(self, total: int, desc: str = "", *, unit: str = "it", initial: int = 0,
                 enabled: bool | None = None, stream: TextIO | None = None,
                 min_interval: float = 0.2) -> None:
        self.total = max(int(total), 0)
        self.desc = desc
        self.unit = unit
        self.done = int(initial)
        self.stream = stream if stream is not None else sys.stderr
        if enabled is None:
            isatty = getattr(self.stream, "isatty", None)
            enabled = bool(isatty and isatty()) or (stream is None and in_notebook())
        self._tqdm = None
        if enabled and stream is None:
            self._tqdm = _tqdm_bar(self.total, desc, unit, self.done)
        self.enabled = enabled and self._tqdm is None
        self.min_interval = min_interval
        self._t0 = time.perf_counter()
        self._start_done = self.done
        self._last = 0.0
        self._closed = False
        self._drawn = -1
        self._draw(force=True)

    def update(self, n: int = 1) -> None:
        self.done += int(n)
        if self._tqdm is not None:
            self._tqdm.update(int(n))
        self._draw()

    def _draw(self, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        if not force and now - self._last < self.min_interval and self.done < self.total:
            return
        self._last = now
        self._drawn = self.done
        frac = self.done / self.total if self.total else 1.0
        width = 30
        fill = int(round(frac * width))
        el = now - self._t0
        rate = (self.done - self._start_done) / el if el > 0 else 0.0
        left = (self.total - self.done) / rate if rate > 0 else float("nan")
        eta = f"{left:,.0f} s left" if left == left else "..."
        self.stream.write(f"\r{self.desc} [{'#' * fill}{'.' * (width - fill)}] "
                          f"{self.done}/{self.total} {self.unit} {frac * 100:5.1f}% "
                          f"{rate:,.1f} {self.unit}/s {eta}   ")
        self.stream.flush()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._tqdm is not None:
            self._tqdm.close()
        if self.enabled:
            if self._drawn != self.done:
                self._draw(force=True)
            self.stream.write("\n")
            self.stream.flush()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def in_notebook() -> bool:
    """True inside a Jupyter kernel (where stderr is not a terminal, yet a bar is wanted)."""
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    try:
        ip = shell.get_ipython()
    except Exception:  # pragma: no cover - an IPython without get_ipython
        return False
    return ip is not None and type(ip).__name__ == "ZMQInteractiveShell"


def _tqdm_bar(total: int, desc: str, unit: str, initial: int):
    """``tqdm.auto.tqdm`` when tqdm is installed, else None (the hand-written bar)."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc=desc, unit=unit, initial=initial, dynamic_ncols=True)
