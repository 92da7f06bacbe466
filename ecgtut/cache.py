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
import tempfile
import time
from pathlib import Path

import numpy as np

from ecgtut.beats import DEFAULT_WINDOW, BeatSet, BeatWindow, beats_from_record
from ecgtut.data import DEFAULT_LEAD, _record_path
from ecgtut.database import FS_MITDB, RECORDS, DataError, cache_dir, find_data_dir

__all__ = ["load_beats"]

_CACHE_FORMAT = 3  # bump when the arrays or their meaning change


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


def _save_atomic(path, beatset):
    """Write the arrays to a temporary file beside ``path``, then rename it into place."""
    records = list(beatset.dropped)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".npz")
    except OSError as exc:
        raise DataError(f"cannot write the beat cache in {path.parent} ({exc}); "
                        "set ECGTUT_CACHE to a writable folder") from exc
    try:
        with os.fdopen(fd, "wb") as f:
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
                params=json.dumps(beatset.params),
            )
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _window(params):
    """The :class:`BeatWindow` a set's ``params`` describe."""
    return BeatWindow(params["before"], params["after"], params["n_samples"])


def _load(path):
    with np.load(path) as z:
        records = z["records"].tolist()
        params = json.loads(str(z["params"]))
        return BeatSet(
            X=z["X"],
            aami=z["aami"],
            symbol=z["symbol"],
            record=z["record"],
            r_peak=z["r_peak"],
            fs=z["fs"].item(),  # 360 stays an int, as when built
            window=_window(params),
            dropped=dict(zip(records, z["dropped"].tolist())),
            skipped=dict(zip(records, z["skipped"].tolist())),
            params=params,
        )


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
        files, so changing any of them builds a new set.
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
    if cache and path.is_file():
        beatset = _load(path)
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
    beatset = BeatSet.concat(parts, params={**params, "records": records})
    beatset.params["build_seconds"] = round(time.perf_counter() - start, 3)
    if cache:
        _save_atomic(path, beatset)
    beatset.params["cached"] = False
    return beatset
