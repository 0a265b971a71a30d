"""Reading TOML files (scenario and data files): one set of rules, one place.

A UTF-8 byte-order mark is accepted; a directory, a binary file, invalid TOML or nesting
too deep for Python is a :class:`~simcore.errors.ScenarioError` naming the file.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from .errors import ScenarioError

__all__ = ["read_toml", "parse_toml"]


def read_toml(p: Path, what: str) -> dict[str, Any]:
    """Read a TOML file: a UTF-8 byte-order mark is accepted; a directory, a binary file
    or nesting too deep for Python is a :class:`ScenarioError` naming the file (issue 15)."""
    if p.is_dir():
        raise ScenarioError(f"{p}: cannot read (Is a directory); expected a {what} (TOML)")
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise ScenarioError(f"{p}: cannot read ({exc.strerror or exc}); expected a {what}") from None
    return parse_toml(raw, p, what)


def parse_toml(raw: bytes, p: Path | str, what: str) -> dict[str, Any]:
    """Parse the bytes of a TOML file ``p`` as :func:`read_toml` does (one set of rules for
    scenario and data files)."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{p}: cannot read: not a text file (not UTF-8 at byte {exc.start}); expected a "
                            f"{what} (TOML)") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{p}: not valid TOML ({exc})") from exc
    except RecursionError:
        raise ScenarioError(f"{p}: cannot read: arrays or tables nested too deeply; expected a "
                            f"{what} (TOML)") from None
