"""Sweep folders: chunk files with checksums, the manifest and its fingerprint, the folder
lock, and resuming."""

from __future__ import annotations

import hashlib
import io
import json
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .. import _atomic
from .._version import __version__
from ..errors import DataError, DesignError, SimcoreError


_MANIFEST_VERSION = 3


# --------------------------------------------------------------------------------------
# Chunk files
# --------------------------------------------------------------------------------------
_CHUNK_KEYS = ("gdp_loss_total", "gdp_gain_total", "days", "recovered", "status",
               "value_added_loss", "gdp_loss")
#: Keys every chunk holds.  ``gdp_gain_total`` (value added above baseline, kept apart from
#: the net loss) arrived after format 2's first chunks: a chunk without it is one written by
#: an older simcore and is recomputed on resume (counted in ``attrs['chunks_old_format']``),
#: never assembled with its gains missing.
_CHUNK_REQUIRED = ("gdp_loss_total", "gdp_gain_total", "days", "recovered", "status")


def _digest(arrays: Mapping[str, np.ndarray], meta: bytes = b"") -> str:
    h = hashlib.sha256()
    for k in sorted(arrays):
        a = np.ascontiguousarray(arrays[k])
        h.update(k.encode())
        h.update(str(a.dtype).encode())
        h.update(repr(a.shape).encode())
        h.update(a.tobytes())
    h.update(meta)
    return h.hexdigest()


def _chunk_path(root: Path, cid: int) -> Path:
    return root / "chunks" / f"chunk-{cid:06d}.npz"


def _chunk_meta(fp: str, cid: int, start: int, size: int) -> bytes:
    return json.dumps({"fingerprint": fp, "chunk": cid, "start": start, "size": size},
                      sort_keys=True).encode()


def _write_chunk(root: Path, cid: int, arrays: Mapping[str, np.ndarray], fp: str,
                 start: int) -> dict[str, Any]:
    """Write chunk ``cid`` atomically.  Its checksum covers the arrays and the chunk's
    identity (the sweep's fingerprint, its index, first scenario and size), so a chunk of
    another sweep, or another chunk's file copied over it, never passes for it."""
    arrs = {k: np.asarray(v) for k, v in arrays.items() if k in _CHUNK_KEYS}
    meta = _chunk_meta(fp, cid, start, len(arrs["gdp_loss_total"]))
    sha = _digest(arrs, meta)
    buf = io.BytesIO()
    np.savez(buf, **arrs, __meta__=np.frombuffer(meta, dtype=np.uint8),
             __sha256__=np.frombuffer(sha.encode(), dtype=np.uint8))
    data = buf.getvalue()
    _atomic.atomic_write_bytes(_chunk_path(root, cid), data)
    return {"sha256": sha, "bytes": len(data)}


def _read_chunk(root: Path, cid: int, start: int, m: int, fp: str,
                expect: str | None = None,
                old: list[int] | None = None) -> dict[str, np.ndarray] | None:
    """The chunk's arrays, or ``None`` (recompute) unless the file is readable, its checksum
    matches its content, it belongs to this sweep (fingerprint ``fp``) as chunk ``cid`` of
    ``m`` scenarios from ``start``, and, when the manifest records a checksum for it
    (``expect``), that checksum is its own.  A chunk the manifest does not record yet (one
    finished after the manifest's last save) is accepted on its own checksum and identity.
    A chunk that is valid but lacks a key every chunk now holds (``gdp_gain_total``: written
    by an older simcore) is recomputed too; its index is appended to ``old``."""
    p = _chunk_path(root, cid)
    if not p.is_file():
        return None
    try:
        with np.load(p, allow_pickle=False) as z:
            arrs = {k: z[k] for k in z.files}
        sha = bytes(arrs.pop("__sha256__")).decode()
        meta = bytes(arrs.pop("__meta__"))
    except Exception:  # noqa: BLE001 - any failure to read means "recompute"
        return None
    if _digest(arrs, meta) != sha or (expect is not None and expect != sha):
        return None
    if meta != _chunk_meta(fp, cid, start, m):
        return None
    if set(arrs) - set(_CHUNK_KEYS):
        return None
    if any(a.ndim < 1 or a.shape[0] != m for a in arrs.values()):
        return None
    if not set(_CHUNK_REQUIRED) <= set(arrs):
        if old is not None and set(_CHUNK_REQUIRED) - set(arrs) == {"gdp_gain_total"}:
            old.append(cid)
        return None
    return arrs


# --------------------------------------------------------------------------------------
# The sweep folder: lock, manifest, clean-up of a failed start
# --------------------------------------------------------------------------------------
_LOCK = "sweep.lock"


def _proc_start(pid: int) -> str | None:
    """Start time of process ``pid`` in clock ticks since boot (Linux), or None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat[stat.rindex(")") + 2:].split()[19]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:  # pragma: no cover - e.g. an invalid pid
        return False
    try:  # a zombie (killed, not yet reaped) holds nothing
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat[stat.rindex(")") + 2:].split()[0] != "Z"
    except (OSError, ValueError, IndexError):
        return True


class _FolderLock:
    """One writer per sweep folder: ``PATH/sweep.lock``, created with ``O_CREAT | O_EXCL``
    and holding the holder's pid, host and start time.  A lock whose holder is a dead
    process on this host (or a pid reused by another process) is stale and taken over."""

    #: Seconds to wait for a lock file that exists but cannot be read (being written).
    unreadable_wait = 2.0

    def __init__(self, root: Path):
        import socket
        import uuid

        self.root = root
        self.path = root / _LOCK
        self.mine = {"pid": os.getpid(), "host": socket.gethostname(),
                     "started": time.strftime("%Y-%m-%d %H:%M:%S %z"),
                     "proc_start": _proc_start(os.getpid()), "token": uuid.uuid4().hex}
        self.held = False

    def _read(self, path: Path) -> dict[str, Any] | None:
        try:
            d = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return d if isinstance(d, dict) and isinstance(d.get("pid"), int) else None

    def _stale(self, h: Mapping[str, Any]) -> bool:
        if h.get("host") != self.mine["host"]:
            return False  # another machine's process cannot be checked from here
        pid = int(h["pid"])
        if not _pid_alive(pid):
            return True
        now = _proc_start(pid)
        return h.get("proc_start") is not None and now is not None and now != h["proc_start"]

    def acquire(self) -> None:
        unreadable_since = None
        while True:
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                pass
            else:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    fh.write(json.dumps(self.mine))
                    fh.flush()
                    os.fsync(fh.fileno())
                self.held = True
                return
            holder = self._read(self.path)
            if holder is None:
                if not self.path.exists():
                    continue  # released meanwhile
                # created but not yet written by its holder, or garbage: wait a little
                unreadable_since = unreadable_since or time.monotonic()
                if time.monotonic() - unreadable_since > self.unreadable_wait:
                    raise DesignError(
                        f"out={str(self.root)!r}: the lock file {self.path} is unreadable, so "
                        "it is unknown whether another sweep is writing to this folder; if "
                        f"none is, delete {self.path} and run again")
                time.sleep(0.05)
                continue
            if not self._stale(holder):
                raise DesignError(
                    f"out={str(self.root)!r} is in use by another sweep: pid {holder['pid']} "
                    f"on host {holder.get('host', '?')}, started {holder.get('started', '?')} "
                    f"(lock file {self.path}); wait for it to finish or use another path. If "
                    f"that process is gone, delete {self.path}")
            self._take_over(holder)

    def _take_over(self, holder: Mapping[str, Any]) -> None:
        """Move the stale lock aside; if what was moved is not the stale lock read (another
        process took it over meanwhile), put it back."""
        aside = self.root / f"{_LOCK}.stale-{os.getpid()}-{self.mine['token'][:8]}"
        try:
            os.rename(self.path, aside)
        except FileNotFoundError:
            return
        moved = self._read(aside)
        if moved is not None and moved.get("token") != holder.get("token"):
            try:
                os.link(aside, self.path)
            except FileExistsError:  # pragma: no cover - a three-way race
                pass
        aside.unlink(missing_ok=True)

    def release(self) -> None:
        if not self.held:
            return
        self.held = False
        h = self._read(self.path)
        if h is not None and h.get("token") == self.mine["token"]:
            self.path.unlink(missing_ok=True)


#: Manifest keys that identify a sweep (all but the fingerprint and the chunk records).
_IDENT_KEYS = ("format_version", "scenario", "scenario_file", "scenario_data", "design",
               "options", "inputs", "simcore_version", "executor", "n_scenarios", "n_chunks")


def _fingerprint(ident: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps({k: ident[k] for k in _IDENT_KEYS}, sort_keys=True,
                                     default=str).encode()).hexdigest()


def _differences(root: Path, old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    """What differs between the sweep recorded in ``root`` and the one asked for."""
    out: list[str] = []
    if old["scenario_data"] != new["scenario_data"] or old["scenario"] != new["scenario"]:
        out.append(f"another scenario ({old['scenario']!r} there, {new['scenario']!r} now, "
                   "or the same name with other content)")
    elif old["scenario_file"] != new["scenario_file"]:
        out.append(f"the scenario file was {old['scenario_file']}, now {new['scenario_file']}")
    if old["design"] != new["design"]:
        out.append("another design (keys, values, method, samples or seed)")
    if old["options"] != new["options"]:
        keys = sorted(k for k in set(old["options"]) | set(new["options"])
                      if old["options"].get(k) != new["options"].get(k))
        out.append("other options (" + ", ".join(
            f"{k}: {old['options'].get(k)!r} there, {new['options'].get(k)!r} now"
            for k in keys) + ")")
    oi, ni = old["inputs"], new["inputs"]
    for label in sorted(set(oi) | set(ni)):
        a, b = oi.get(label), ni.get(label)
        if a == b:
            continue
        key, _, val = label.partition("=")
        if a is None or b is None:
            out.append(f"{key} = {val!r} is {'new' if a is None else 'no longer read'}")
        elif a["path"] != b["path"]:
            out.append(f"{key} = {val!r} was the file {a['path']}, now {b['path']}")
        else:
            out.append(f"the input file {b['path']} ({key}) has changed since the sweep began "
                       f"(sha256 {a['sha256'][:12]}... recorded, {b['sha256'][:12]}... now)")
    if old["simcore_version"] != new["simcore_version"]:
        out.append(f"it was made by simcore {old['simcore_version']}, this is simcore "
                   f"{new['simcore_version']}")
    if old["executor"] != new["executor"]:
        out.append(f"it ran on executor {old['executor']!r}, this call uses "
                   f"{new['executor']!r}")
    if not out:  # pragma: no cover - every identifying key is compared above
        out.append("its fingerprint differs")
    return (f"out={str(root)!r} holds a different sweep: " + "; ".join(out) + ". Resume with "
            "the same scenario, design, options, input files, simcore version and executor, or "
            "use a new path")


def _check_manifest(mpath: Path, man: Any) -> dict[str, Any]:
    """The manifest, checked: a clear :class:`DataError` naming what is wrong, never a
    silent fresh start over old chunks."""
    def bad(what: str) -> DataError:
        return DataError(f"{mpath}: {what}; the folder's chunks cannot be trusted without it. "
                         "Move the folder away (or delete it) and run again, or use a new path")

    if not isinstance(man, dict):
        return_type = type(man).__name__
        raise bad(f"the sweep manifest holds a JSON {return_type}, expected an object")
    if man.get("format_version") != _MANIFEST_VERSION:
        raise bad(f"manifest format {man.get('format_version')!r}; this simcore "
                  f"({__version__}) reads format {_MANIFEST_VERSION} (the folder was written "
                  "by another version of simcore, or the manifest was edited)")
    fp = man.get("fingerprint")
    if not (isinstance(fp, str) and len(fp) == 64
            and all(c in "0123456789abcdef" for c in fp)):
        raise bad(f"the manifest lacks the sweep's fingerprint (key 'fingerprint' = {fp!r}, "
                  "expected 64 hex digits)")
    missing = [k for k in _IDENT_KEYS if k not in man]
    if missing:
        raise bad(f"the manifest lacks key(s) {', '.join(map(repr, missing))}")
    try:
        ok = _fingerprint(man) == fp
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise bad("the manifest's content does not match its fingerprint (it was edited)")
    chunks = man.get("chunks")
    if not isinstance(chunks, dict):
        raise bad(f"key 'chunks' = {chunks!r}, expected an object {{chunk index: record}}")
    nchunks = man["n_chunks"] if isinstance(man["n_chunks"], int) else 0
    for k, v in chunks.items():
        if not (k.isdigit() and int(k) < nchunks and str(int(k)) == k):
            raise bad(f"chunks[{k!r}]: not a chunk of this sweep (0..{nchunks - 1})")
        if not (isinstance(v, dict) and isinstance(v.get("sha256"), str)
                and len(v["sha256"]) == 64 and isinstance(v.get("bytes"), int)):
            raise bad(f"chunks[{k!r}] = {v!r}, expected {{'sha256': 64 hex digits, 'bytes': "
                      "size}")
    return man


class _Store:
    """The sweep folder ``root``: locked for one writer; the manifest checked or created;
    on a failed start (no chunk finished), everything this call created removed."""

    def __init__(self, root: Path, ident: dict[str, Any], fp: str, nchunks: int):
        self.root = root
        self.ident = ident
        self.fp = fp
        self.nchunks = nchunks
        self.mpath = root / "manifest.json"
        self.created_root = False
        self.fresh = False
        self.written = 0  # chunks written by this call
        self.lock: _FolderLock | None = None
        self.manifest: dict[str, Any] = {}

    def open(self) -> dict[str, Any]:
        root = self.root
        if root.exists() and not root.is_dir():
            raise DesignError(f"out={str(root)!r} is a file; give a directory")
        if not root.exists():
            try:
                root.mkdir(parents=True)
                self.created_root = True
            except FileExistsError:
                pass
            except OSError as exc:
                raise DesignError(f"out={str(root)!r}: cannot create the directory "
                                  f"({exc})") from None
        self.lock = _FolderLock(root)
        try:
            self.lock.acquire()
            self._load()
        except BaseException:
            self.abort()
            raise
        return self.manifest

    def _load(self) -> None:
        root, mpath = self.root, self.mpath
        if mpath.exists() or mpath.is_symlink():
            try:
                text = mpath.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise DataError(f"{mpath}: cannot read the sweep manifest ({exc})") from None
            try:
                man = json.loads(text)
            except json.JSONDecodeError as exc:
                what = "empty" if not text.strip() else f"not valid JSON ({exc})"
                raise DataError(
                    f"{mpath}: the sweep manifest is {what}: it was truncated or edited, and "
                    "the folder's chunks cannot be trusted without it. Move the folder away "
                    "(or delete it) and run again, or use a new path") from None
            man = _check_manifest(mpath, man)
            if man["fingerprint"] != self.fp:
                raise DesignError(_differences(root, man, self.ident))
            self.manifest = man
            return
        others = sorted(p.name for p in root.iterdir() if p.name != _LOCK)
        if others:
            raise DesignError(
                f"out={str(root)!r} exists and is not a sweep directory (no manifest.json; it "
                f"holds {', '.join(others[:5])}{' ...' if len(others) > 5 else ''}); use a new "
                "or empty path")
        self.fresh = True
        self.manifest = {**self.ident, "fingerprint": self.fp, "chunks": {}}
        self.save()

    def save(self) -> None:
        _atomic.atomic_write_text(self.mpath, json.dumps(self.manifest, indent=1, sort_keys=True))

    def close(self) -> None:
        if self.lock is not None:
            self.lock.release()

    def abort(self) -> None:
        """After an error: keep finished chunks (resumable); after a failed start of a new
        sweep, remove what this call created."""
        try:
            if self.fresh and self.written == 0:
                self.mpath.unlink(missing_ok=True)
                chunks = self.root / "chunks"
                if chunks.is_dir() and not any(chunks.iterdir()):
                    chunks.rmdir()
            elif self.written:
                self.save()
        finally:
            self.close()
            if self.created_root:
                try:
                    self.root.rmdir()  # only if nothing is left in it
                except OSError:
                    pass


def _check_out_dir(root: Path) -> None:
    """Refuse, before any work, an ``out`` that is a file, sits under a file, or lies in a
    folder where nothing can be written (issue 15)."""
    if root.exists() and not root.is_dir():
        raise DesignError(f"out={str(root)!r} is a file; a sweep writes a directory: give a "
                          "new or empty path")
    try:
        _atomic.writable_dir(root, f"out={str(root)!r}")
    except SimcoreError as exc:
        raise DesignError(str(exc)) from None
