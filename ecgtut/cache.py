"""Chapter 03 -- the beat set of the whole database, built once and cached on disk.

:func:`load_beats` reads, denoises and segments every record
(:func:`ecgtut.beats_from_record`), then keeps the arrays in
``beats-<key>.npz`` in :func:`ecgtut.cache_dir` (never inside the data
folder), keyed by every parameter that shapes them and by the identity of the
record files: a second call takes a fraction of a second.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from ecgtut.beats import DEFAULT_WINDOW, BeatSet, BeatWindow, beats_from_record
from ecgtut.data import DEFAULT_LEAD, _record_path
from ecgtut.database import (
    FS_MITDB,
    RECORDS,
    DataError,
    DataWarning,
    cache_dir,
    find_data_dir,
    record_checksum_problems,
)

__all__ = ["load_beats", "clean_leftovers"]

_CACHE_FORMAT = 4  # bump when the arrays or their meaning change

#: A temporary file whose writer cannot be asked whether it still runs (another
#: machine sharing the cache, an old-style name) is a leftover after this long.
_STALE_SECONDS = 24 * 3600


def _cache_key(folder, records, params):
    """Hash of everything that shapes a beat set: parameters, records and the files' identity."""
    files = []
    for r in records:
        stem = _record_path(r, folder)  # where the record is really read from
        for ext in ("hea", "dat", "atr"):
            p = stem.with_name(f"{stem.name}.{ext}").resolve()
            st = p.stat() if p.exists() else None
            files.append([str(p), st and st.st_size, st and st.st_mtime_ns])
    blob = json.dumps(
        [_CACHE_FORMAT, str(folder.resolve()), list(records), params, files], sort_keys=True
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _tmp_prefix():
    """``.tmp-<host>-<pid>-``: who is writing, so that a leftover can be told from a live write."""
    return f".tmp-{socket.gethostname()}-{os.getpid()}-"


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):  # it exists, under another user
        return True
    return True


def clean_leftovers(folder):
    """Remove the temporary files that interrupted cache writes left in ``folder``.

    A write goes to ``.tmp-<host>-<pid>-*.npz`` and is renamed into place when
    complete; a run killed during it (SIGKILL, SIGTERM, a power cut) leaves the
    temporary file behind. It is removed when its writer is a process of this
    machine that no longer runs, or, when that cannot be asked (another machine
    sharing the cache, an older name), when it is more than a day old. A write
    in progress, here or elsewhere, is never touched.

    Parameters
    ----------
    folder : path-like
        The cache folder.

    Returns
    -------
    list of str
        Names of the files removed.

    Example
    -------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> (folder / f".tmp-{socket.gethostname()}-{os.getpid()}-x.npz").write_bytes(b"")   # ours
    0
    >>> clean_leftovers(folder)   # this process still runs: its write is kept
    []
    """
    removed = []
    here = socket.gethostname()
    try:
        candidates = list(Path(folder).glob(".tmp-*.npz"))
    except OSError:
        return removed
    for p in candidates:
        # <host>-<pid>-<random>: mkstemp's random part holds no "-", a host name may
        parts = p.name[len(".tmp-"):-len(".npz")].rsplit("-", 2)
        try:
            if len(parts) == 3 and parts[0] == here and parts[1].isdigit():
                stale = not _pid_alive(int(parts[1]))
            else:
                stale = time.time() - p.stat().st_mtime > _STALE_SECONDS
            if stale:
                p.unlink()
                removed.append(p.name)
        except OSError:  # gone already (another run cleaned it), or not ours to remove
            continue
    return removed


def write_atomic(path, write, prefix, suffix=""):
    """Write a file whole or not at all: ``write(f)`` fills a temporary file beside
    ``path``, which is then renamed into place (removed if anything fails).

    The file gets the permissions of any new file (0o666 less the umask: readable
    by the group with the usual umask), so a cache shared by a classroom works for
    every user. The temporary file's name starts with ``prefix``.

    Example
    -------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> write_atomic(path, lambda f: f.write(b"hello"), prefix=".tmp-")
    >>> path.read_bytes()
    b'hello'
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.resolve().parent, prefix=prefix, suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _save_atomic(path, beatset):
    """Write the arrays with :func:`write_atomic`, under a name that says who writes."""
    records = list(beatset.dropped)

    def arrays(f):
        np.savez(
            f,
            X=beatset.X,
            aami=beatset.aami,
            symbol=beatset.symbol,
            record=beatset.record,
            r_peak=beatset.r_peak,
            fs=beatset.fs,
            records=np.array(records),
            dropped=np.array([beatset.dropped[r] for r in records]),
            skipped=np.array([beatset.skipped[r] for r in records]),
            invalid_samples=np.array([beatset.invalid_samples.get(r, 0) for r in records]),
            refused=np.array([beatset.refused.get(r, 0) for r in records]),
            params=json.dumps(beatset.params),
        )

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"cannot write the beat cache in {path.parent} ({exc}); "
                        "set ECGTUT_CACHE to a writable folder") from exc
    try:
        write_atomic(path, arrays, prefix=_tmp_prefix(), suffix=".npz")
    except PermissionError as exc:  # a folder we may not write to
        raise DataError(f"cannot write the beat cache in {path.parent} ({exc}); "
                        "set ECGTUT_CACHE to a writable folder") from exc


def _window(params):
    """The :class:`BeatWindow` a set's ``params`` describe."""
    return BeatWindow(params["before"], params["after"], params["n_samples"])


def _load(path):
    """The beat set in ``path``; any problem with the file raises (see :func:`_try_load`)."""
    with np.load(path) as z:
        records = z["records"].tolist()
        params = json.loads(str(z["params"]))
        beatset = BeatSet(
            X=z["X"],
            aami=z["aami"],
            symbol=z["symbol"],
            record=z["record"],
            r_peak=z["r_peak"],
            fs=z["fs"].item(),  # 360 stays an int, as when built
            window=_window(params),
            dropped=dict(zip(records, z["dropped"].tolist())),
            skipped=dict(zip(records, z["skipped"].tolist())),
            invalid_samples=dict(zip(records, z["invalid_samples"].tolist())),
            refused=dict(zip(records, z["refused"].tolist())),
            params=params,
        )
    n = len(beatset.X)
    if not all(len(a) == n for a in (beatset.aami, beatset.symbol, beatset.record,
                                      beatset.r_peak)):
        raise ValueError("its arrays disagree in length")
    return beatset


def _try_load(path):
    """The cached beat set, or None (with one DataWarning line) when the file is damaged."""
    try:
        return _load(path)
    except Exception as exc:  # zip, pickle, CRC, permission, missing key: all mean "rebuild"
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        warnings.warn(f"beat cache {path.name} is damaged ({reason}); rebuilding it in "
                      f"{path.parent}", DataWarning, stacklevel=3)
        with contextlib.suppress(OSError):
            path.unlink()  # if it cannot be removed, the new file replaces it all the same
        return None


def _progress_bar(records, progress):
    """A tqdm bar over ``records``, or the bare list (tqdm not even imported) without one."""
    if not progress:
        return contextlib.nullcontext(records)
    from tqdm import tqdm

    return tqdm(records, desc="segmenting beats", unit="record")


def load_beats(data_dir=None, records=None, *, lead=DEFAULT_LEAD, window=DEFAULT_WINDOW,
               denoise_method="wavelet", fs=FS_MITDB, cache=True, progress=True):
    """The beat set of many records (default: the 44 non-paced MIT-BIH records), cached.

    Parameters
    ----------
    data_dir : str or path-like, optional
        Database folder (see :func:`ecgtut.find_data_dir`).
    records : list of str, optional
        Records to use; default :data:`ecgtut.RECORDS` (44 records). A record
        named twice is used once.
    lead, window, denoise_method, fs
        As in :func:`beats_from_record`.
    cache : bool
        Reuse (and write) ``beats-<key>.npz`` in :func:`ecgtut.cache_dir`; the key
        hashes every parameter above plus the size and time of the record
        files, so changing any of them builds a new set. A cache file that
        cannot be read (truncated, damaged, unreadable) is reported in one
        :class:`ecgtut.DataWarning` and rebuilt; leftovers of interrupted writes
        are removed (:func:`clean_leftovers`). When the set is built, a record
        file that fails PhysioNet's checksum gives a DataWarning too (the beats
        are built all the same).
    progress : bool
        Show a progress bar while building.

    Returns
    -------
    BeatSet
        ``params["cached"]`` tells whether it came from the cache.

    Examples
    --------
    >>> bs = load_beats(progress=False)
    >>> bs.counts()
    {'N': 90081, 'S': 2781, 'V': 7008, 'F': 802, 'Q': 15}
    """
    folder = find_data_dir(data_dir)
    records = list(dict.fromkeys(str(r) for r in (records or RECORDS)))  # each record once
    params = dict(lead=lead, **window.as_dict(), denoise_method=denoise_method, fs=fs)
    path = cache_dir() / f"beats-{_cache_key(folder, records, params)}.npz"
    if cache:
        clean_leftovers(path.parent)
    if cache and path.is_file():
        beatset = _try_load(path)
        if beatset is not None:
            beatset.params["cached"] = True
            return beatset

    start = time.perf_counter()
    # closed before an error is reported, so the message gets its own line
    with _progress_bar(records, progress) as bar:
        parts = [
            beats_from_record(r, folder, lead=lead, window=window,
                              denoise_method=denoise_method, fs=fs)
            for r in bar
        ]
    for r in records:  # a warning, not a refusal: other databases publish no checksums
        for name, why in record_checksum_problems(r, folder).items():
            warnings.warn(f"{name} {why}", DataWarning, stacklevel=2)
    beatset = BeatSet.concat(parts, params={**params, "records": records})
    beatset.params["build_seconds"] = round(time.perf_counter() - start, 3)
    if cache:
        _save_atomic(path, beatset)
    beatset.params["cached"] = False
    return beatset
