"""A reader of NetCDF classic files (formats 1 and 2, the 64-bit offset format), numpy only.

simcore writes its posterior with xarray's ``scipy`` engine (NetCDF 3: no optional
dependency).  Reading it back through xarray imports ``scipy.io`` and xarray's backend
machinery, about 0.15 s on the machine of docs/performance.md for a file of 0.3 MB (more
than a tenth of a warm ``simcore reproduce``); this reader takes a millisecond.  It reads what
such files hold: fixed-size variables of the six classic types, their attributes and the
global ones (record variables, with an unlimited dimension, are refused by name).  A
character variable with a ``string`` dimension last is decoded to an array of ``str``, as
xarray decodes it.  The layout follows Unidata's "NetCDF Classic Format Specification";
``tests/test_netcdf3.py`` checks every variable and attribute against xarray's reading.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .errors import DataError

__all__ = ["read"]

_ABSENT = 0
_DIMENSION = 0x0A
_VARIABLE = 0x0B
_ATTRIBUTE = 0x0C
#: nc_type -> big-endian numpy dtype (1 byte, 2 char, 3 short, 4 int, 5 float, 6 double)
_TYPES = {1: np.dtype("i1"), 2: np.dtype("S1"), 3: np.dtype(">i2"), 4: np.dtype(">i4"),
          5: np.dtype(">f4"), 6: np.dtype(">f8")}


class _Header:
    def __init__(self, buf: bytes, path: Path) -> None:
        self.buf = buf
        self.pos = 0
        self.path = path

    def fail(self, what: str) -> DataError:
        return DataError(f"{self.path}: not a readable NetCDF classic file: {what} "
                         f"(at byte {self.pos})")

    def take(self, n: int) -> bytes:
        if n < 0:
            raise self.fail(f"a negative length ({n})")
        if self.pos + n > len(self.buf):
            raise self.fail(f"the header ends early (wanted {n} more bytes)")
        b = self.buf[self.pos:self.pos + n]
        self.pos += n
        return b

    def int32(self) -> int:
        return int.from_bytes(self.take(4), "big", signed=True)

    def offset(self, wide: bool) -> int:
        return int.from_bytes(self.take(8 if wide else 4), "big", signed=False)

    def name(self) -> str:
        n = self.int32()
        raw = self.take(n)
        self.take(-n % 4)
        return raw.decode("utf-8")

    def values(self, t: int, n: int) -> Any:
        if t not in _TYPES:
            raise self.fail(f"unknown type code {t}")
        dt = _TYPES[t]
        size = dt.itemsize * n
        raw = self.take(size)
        self.take(-size % 4)
        if t == 2:
            return raw.rstrip(b"\x00").decode("utf-8")
        arr = np.frombuffer(raw, dt).astype(dt.newbyteorder("="))
        return arr[0] if n == 1 else arr

    def attributes(self) -> dict[str, Any]:
        tag, n = self.int32(), self.int32()
        if tag == _ABSENT and n == 0:
            return {}
        if tag != _ATTRIBUTE:
            raise self.fail(f"expected an attribute list, found tag {tag}")
        out = {}
        for _ in range(n):
            name = self.name()
            t, k = self.int32(), self.int32()
            out[name] = self.values(t, k)
        return out


def read(path: str | Path) -> tuple[dict[str, tuple[tuple[str, ...], np.ndarray, dict]],
                                    dict[str, Any]]:
    """``(variables, attributes)`` of a NetCDF classic file: ``variables[name] = (dims,
    values, attrs)`` with the values in native byte order, and the global attributes."""
    p = Path(path)
    try:
        buf = p.read_bytes()
    except OSError as exc:
        raise DataError(f"{p}: cannot read ({exc})") from exc
    h = _Header(buf, p)
    try:
        return _parse(h)
    except (UnicodeDecodeError, LookupError, TypeError) as exc:
        raise h.fail(f"a name or text that cannot be decoded ({exc})") from exc


def _parse(h: _Header) -> tuple[dict[str, tuple[tuple[str, ...], np.ndarray, dict]],
                                dict[str, Any]]:
    buf = h.buf
    magic = h.take(4)
    if magic[:3] != b"CDF" or magic[3] not in (1, 2):
        raise h.fail(f"magic {magic!r}, expected b'CDF' and format 1 or 2 (NetCDF-4 and "
                     "the 64-bit data format are not read here)")
    wide = magic[3] == 2
    h.int32()  # number of records
    tag, n = h.int32(), h.int32()
    dims: list[tuple[str, int]] = []
    if not (tag == _ABSENT and n == 0):
        if tag != _DIMENSION:
            raise h.fail(f"expected a dimension list, found tag {tag}")
        dims = [(h.name(), h.int32()) for _ in range(n)]
        if any(k < 0 for _, k in dims):
            raise h.fail(f"a negative dimension length in {dims}")
    attrs = h.attributes()
    tag, n = h.int32(), h.int32()
    variables: dict[str, tuple[tuple[str, ...], np.ndarray, dict]] = {}
    if tag == _ABSENT and n == 0:
        return variables, attrs
    if tag != _VARIABLE:
        raise h.fail(f"expected a variable list, found tag {tag}")
    for _ in range(n):
        name = h.name()
        ids = [h.int32() for _ in range(h.int32())]
        vattrs = h.attributes()
        t = h.int32()
        h.int32()  # vsize
        begin = h.offset(wide)
        if any(not 0 <= i < len(dims) for i in ids):
            raise h.fail(f"variable {name!r} names a dimension that does not exist")
        shape = tuple(dims[i][1] for i in ids)
        if ids and dims[ids[0]][1] == 0:
            raise h.fail(f"variable {name!r} is a record variable (unlimited dimension), "
                         "which this reader does not read")
        if t not in _TYPES:
            raise h.fail(f"variable {name!r}: unknown type code {t}")
        dt = _TYPES[t]
        count = int(np.prod(shape, dtype=np.int64))
        if begin + count * dt.itemsize > len(buf):
            raise h.fail(f"variable {name!r} runs past the end of the file")
        arr = np.frombuffer(buf, dt, count, begin).reshape(shape)
        names = tuple(dims[i][0] for i in ids)
        if t == 2 and arr.ndim:
            # characters along the last dimension: strings, that dimension dropped
            enc = str(vattrs.pop("_Encoding", "utf-8"))
            rows = arr.reshape(-1, shape[-1])
            arr = np.array([b"".join(r).rstrip(b"\x00").decode(enc) for r in rows],
                           dtype=object).reshape(shape[:-1])
            names = names[:-1]
        elif t != 2:
            arr = arr.astype(dt.newbyteorder("="))
        variables[name] = (names, arr, vattrs)
    return variables, attrs
