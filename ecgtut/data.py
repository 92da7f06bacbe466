"""Chapter 01 -- the MIT-BIH Arrhythmia Database: find, download, verify and read it.

Reading goes through wfdb (``wfdb.rdrecord``, ``wfdb.rdann``) and works for any
WFDB record at any sampling frequency; only the record lists and the checksum
table below are specific to MIT-BIH. wfdb (which imports pandas) is imported by
the functions that read or download, not with this module, so the record lists
and :class:`DataError` cost nothing to import (the CLI's ``--help`` needs them).

Where the database lives, in order of precedence:

1. an explicit ``data_dir`` argument (the CLI's ``--data``);
2. the environment variable ``ECGTUT_DATA``;
3. ``$XDG_DATA_HOME/ecgtut/mitdb`` (by default ``~/.local/share/ecgtut/mitdb``),
   where ``ecgtut download`` puts it.
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "AAMI_CLASSES",
    "AAMI_NAMES",
    "AAMI_SYMBOLS",
    "DS1",
    "DS2",
    "FS_MITDB",
    "RECORDS",
    "RECORDS_ALL",
    "RECORDS_PACED",
    "Annotations",
    "DataError",
    "Record",
    "aami_class",
    "cache_dir",
    "count_symbols",
    "default_data_dir",
    "download_mitdb",
    "find_data_dir",
    "read_annotations",
    "read_record",
    "verify_mitdb",
]

FS_MITDB = 360
"""Sampling frequency of MIT-BIH, in Hz."""

RECORDS_ALL = (
    "100 101 102 103 104 105 106 107 108 109 111 112 113 114 115 116 117 118 119 121 122 123 "
    "124 200 201 202 203 205 207 208 209 210 212 213 214 215 217 219 220 221 222 223 228 230 "
    "231 232 233 234"
).split()
"""The 48 records of MIT-BIH (PhysioNet's ``RECORDS`` file)."""

RECORDS_PACED = ["102", "104", "107", "217"]
"""Records with paced beats, excluded as AAMI EC57 recommends."""

RECORDS = [r for r in RECORDS_ALL if r not in RECORDS_PACED]
"""The 44 records the course uses."""

DS1 = (
    "101 106 108 109 112 114 115 116 118 119 122 124 201 203 205 207 208 209 215 220 223 230"
).split()
"""Inter-patient training set of de Chazal et al. (2004), 22 records."""

DS2 = (
    "100 103 105 111 113 117 121 123 200 202 210 212 213 214 219 221 222 228 231 232 233 234"
).split()
"""Inter-patient test set of de Chazal et al. (2004), 22 records."""

AAMI_CLASSES = ("N", "S", "V", "F", "Q")
"""The five AAMI EC57 heartbeat classes, in the course's order."""

AAMI_NAMES = {
    "N": "normal, bundle branch block, escape",
    "S": "supraventricular ectopic (SVEB)",
    "V": "ventricular ectopic (VEB)",
    "F": "fusion of ventricular and normal",
    "Q": "unknown, paced, unclassifiable",
}

AAMI_SYMBOLS = {
    "N": ("N", "L", "R", "e", "j"),
    "S": ("A", "a", "J", "S"),
    "V": ("V", "E"),
    "F": ("F",),
    "Q": ("/", "f", "Q"),
}
"""MIT-BIH beat symbols of each AAMI class (SPEC section 2)."""

_SYMBOL_TO_CLASS = {s: c for c, symbols in AAMI_SYMBOLS.items() for s in symbols}

_CHECKSUMS = Path(__file__).with_name("mitdb_SHA256SUMS.txt")


class DataError(Exception):
    """A problem with the database on disk: missing, incomplete or unreadable.

    The CLI prints its message as one line and exits non-zero.
    """


def aami_class(symbol):
    """AAMI class of a MIT-BIH annotation symbol.

    Parameters
    ----------
    symbol : str
        Annotation symbol from an ``.atr`` file, e.g. ``"N"`` or ``"V"``.

    Returns
    -------
    str or None
        One of ``"N" "S" "V" "F" "Q"``, or None for non-beat annotations
        (rhythm ``+``, noise ``~``, ...), which are not heartbeats.

    Examples
    --------
    >>> aami_class("L"), aami_class("A"), aami_class("+")
    ('N', 'S', None)
    """
    return _SYMBOL_TO_CLASS.get(symbol)


# ----------------------------------------------------------------------------- locations


def _xdg(var, fallback):
    return Path(os.environ.get(var) or Path.home() / fallback)


def default_data_dir():
    """Where ``ecgtut download`` puts the database when no folder is given.

    Returns
    -------
    pathlib.Path
        ``$XDG_DATA_HOME/ecgtut/mitdb`` (``~/.local/share/ecgtut/mitdb``).

    Example
    -------
    >>> default_data_dir().parts[-2:]
    ('ecgtut', 'mitdb')
    """
    return _xdg("XDG_DATA_HOME", ".local/share") / "ecgtut" / "mitdb"


def cache_dir():
    """Folder for derived files (the cached beat sets), never inside the data folder.

    Returns
    -------
    pathlib.Path
        ``$ECGTUT_CACHE`` if set, else ``$XDG_CACHE_HOME/ecgtut`` (``~/.cache/ecgtut``).
        It is created when the first beat set is saved.

    Example
    -------
    >>> cache_dir()   # doctest: +SKIP
    PosixPath('/home/student/.cache/ecgtut')
    """
    env = os.environ.get("ECGTUT_CACHE")
    return Path(env).expanduser() if env else _xdg("XDG_CACHE_HOME", ".cache") / "ecgtut"


def find_data_dir(data_dir=None):
    """Locate the database folder: ``data_dir`` > ``$ECGTUT_DATA`` > :func:`default_data_dir`.

    Parameters
    ----------
    data_dir : str or path-like, optional
        Explicit folder holding ``NNN.hea``, ``NNN.dat`` and ``NNN.atr`` files.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    DataError
        If the folder does not exist, with a hint on how to get the data.

    Example
    -------
    >>> find_data_dir("/no/such/folder")
    Traceback (most recent call last):
    ...
    ecgtut.data.DataError: database folder not found: /no/such/folder (the folder given); ...
    """
    if data_dir is not None:
        path, origin = Path(data_dir).expanduser(), "the folder given"
    elif os.environ.get("ECGTUT_DATA"):
        path, origin = Path(os.environ["ECGTUT_DATA"]).expanduser(), "ECGTUT_DATA"
    else:
        path, origin = default_data_dir(), "the default folder"
    if not path.is_dir():
        raise DataError(
            f"database folder not found: {path} ({origin}); run 'ecgtut download' "
            "or set ECGTUT_DATA to a folder holding MIT-BIH (e.g. ../shared/mitdb)"
        )
    return path


# ----------------------------------------------------------------------------- download, verify


def _expected_checksums():
    """PhysioNet's SHA-256 of every mitdb record file, as ``{file name: hex digest}``."""
    table = {}
    for line in _CHECKSUMS.read_text().splitlines():
        digest, name = line.split()
        table[name.lstrip("*")] = digest
    return table


def verify_mitdb(data_dir=None, records=None):
    """Check the record files against PhysioNet's published SHA-256 checksums.

    Parameters
    ----------
    data_dir : str or path-like, optional
        Database folder (see :func:`find_data_dir`).
    records : list of str, optional
        Records to check; default all 48 (``.dat``, ``.hea`` and ``.atr`` of each).

    Returns
    -------
    dict
        ``{file name: "missing" | "mismatch"}`` for each bad file; empty when all match.

    Raises
    ------
    ValueError
        For a record that is not one of MIT-BIH's 48 (it has no checksum, so
        an empty result would wrongly mean "intact").

    Examples
    --------
    >>> verify_mitdb()       # the folder of $ECGTUT_DATA (or of ecgtut download)
    {}
    """
    folder = find_data_dir(data_dir)
    wanted = {str(r) for r in (records or RECORDS_ALL)}  # 100 and "100" alike
    unknown = sorted(wanted - set(RECORDS_ALL))
    if unknown:
        raise ValueError(f"no checksum for record(s) {', '.join(unknown)}: MIT-BIH's records "
                         f"are 100 to 234 (ecgtut.RECORDS_ALL)")
    problems = {}
    for name, digest in sorted(_expected_checksums().items()):
        if name.split(".")[0] not in wanted:
            continue
        path = folder / name
        if not path.is_file():
            problems[name] = "missing"
        elif hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            problems[name] = "mismatch"
    return problems


def download_mitdb(dest=None, records=None, progress=True):
    """Download MIT-BIH from PhysioNet with wfdb, then verify the checksums.

    Parameters
    ----------
    dest : str or path-like, optional
        Target folder; default :func:`default_data_dir`. Files already there with
        the right size are not fetched again (wfdb's behaviour).
    records : list of str, optional
        Records to fetch; default all 48.
    progress : bool
        Show a progress bar, one step per record.

    Returns
    -------
    pathlib.Path
        The folder, ready to pass as ``data_dir`` or ``ECGTUT_DATA``.

    Raises
    ------
    DataError
        If the folder cannot be created, the download fails or a file does not
        match PhysioNet's checksum.

    Example
    -------
    Needs PhysioNet (about 100 MB), so it is not run as a test:

    >>> download_mitdb("~/data/mitdb")   # doctest: +SKIP
    PosixPath('/home/student/data/mitdb')
    """
    import wfdb
    from tqdm import tqdm

    dest = Path(dest).expanduser() if dest is not None else default_data_dir()
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"cannot create the download folder {dest}: {exc.strerror}") from exc
    records = [str(r) for r in (records or RECORDS_ALL)]
    bar = tqdm(records, desc="downloading mitdb", unit="record", disable=not progress)
    try:
        with bar:  # closed before an error is reported, so the message gets its own line
            for record in bar:
                wfdb.dl_database("mitdb", str(dest), records=[record], annotators=["atr"])
        wfdb.dl_files("mitdb", str(dest), ["RECORDS", "ANNOTATORS", "SHA256SUMS.txt"])
    except Exception as exc:  # network errors come in many types
        raise DataError(f"download from PhysioNet failed: {exc}") from exc
    problems = verify_mitdb(dest, records)
    if problems:
        listing = ", ".join(f"{name} ({why})" for name, why in problems.items())
        raise DataError(f"downloaded files do not match PhysioNet's checksums: {listing}")
    return dest


# ----------------------------------------------------------------------------- reading


@dataclass
class Record:
    """One lead of an ECG recording.

    Attributes
    ----------
    name : str
        Record name, e.g. ``"100"``.
    signal : np.ndarray, shape (n_samples,)
        The lead in physical units (``units``, mV for MIT-BIH), float64.
    fs : float
        Sampling frequency in Hz.
    lead : str
        Lead name from the header, e.g. ``"MLII"``.
    units : str
        Physical unit of ``signal``.
    fs_original : float
        Sampling frequency of the file; differs from ``fs`` if it was resampled.
    """

    name: str
    signal: np.ndarray
    fs: float
    lead: str
    units: str
    fs_original: float

    @property
    def duration(self):
        """Length in seconds."""
        return len(self.signal) / self.fs


@dataclass
class Annotations:
    """Annotations of a record: sample index (at ``fs``) and symbol of each.

    Attributes
    ----------
    sample : np.ndarray of int, shape (n,)
        Sample index of each annotation (the R peak for beats).
    symbol : np.ndarray of str, shape (n,)
        MIT-BIH symbol of each annotation.
    fs : float
        Sampling frequency the sample indices refer to, in Hz.
    """

    sample: np.ndarray
    symbol: np.ndarray
    fs: float

    @property
    def aami(self):
        """AAMI class of each annotation, ``""`` for non-beats, shape (n,)."""
        # a record has thousands of annotations but a handful of distinct symbols
        symbols, inverse = np.unique(self.symbol, return_inverse=True)
        classes = np.array([aami_class(s) or "" for s in symbols.tolist()], dtype="<U1")
        return classes[inverse.reshape(-1)]

    @property
    def is_beat(self):
        """True where the annotation is a heartbeat of an AAMI class, shape (n,)."""
        return self.aami != ""

    def beats(self):
        """Only the heartbeat annotations (rhythm, noise and other marks dropped)."""
        keep = self.is_beat
        return Annotations(self.sample[keep], self.symbol[keep], self.fs)


def _record_path(record, data_dir):
    """Path stem of a record, with a clear error when its files are missing."""
    stem = Path(str(record)).expanduser()  # a record may be given as a number: 100
    if stem.parent == Path("."):  # a bare name: look in the database folder
        stem = find_data_dir(data_dir) / str(record)
    if not stem.with_suffix(".hea").is_file():
        known = "" if str(record) in RECORDS_ALL else " (MIT-BIH records are 100 to 234)"
        raise DataError(f"record {record}: header {stem.with_suffix('.hea')} not found{known}")
    return stem


def _check_signal_file(stem, header):
    """Raise DataError if the signal file is missing or shorter than the header says."""
    path = stem.parent / header.file_name[0]
    if not path.is_file():
        raise DataError(f"record {stem.name}: signal file {path} is missing")
    if not header.sig_len:  # length unknown from the header: nothing to compare
        return
    from wfdb.io._signal import BYTES_PER_SAMPLE  # wfdb's own table of sample sizes

    per_sample = sum(BYTES_PER_SAMPLE.get(f, 0) for f, n in zip(header.fmt, header.file_name)
                     if n == path.name)
    expected = int(np.ceil(header.sig_len * per_sample))
    if path.stat().st_size < expected:
        raise DataError(
            f"record {stem.name}: {path.name} is truncated "
            f"({path.stat().st_size} bytes, header needs {expected})"
        )


def _diagnose(stem, lead):
    """Find out why a record could not be read, and raise a DataError that says so."""
    import wfdb

    try:
        header = wfdb.rdheader(str(stem))
    except Exception as exc:  # wfdb raises several types for a damaged header
        raise DataError(f"record {stem.name}: header cannot be read ({exc})") from exc
    if isinstance(lead, str) and lead not in header.sig_name:
        leads = ", ".join(header.sig_name)
        raise DataError(f"record {stem.name}: no lead {lead!r} (has {leads})")
    if not isinstance(lead, str) and not 0 <= lead < header.n_sig:
        raise DataError(f"record {stem.name}: lead {lead} out of range (has {header.n_sig})")
    _check_signal_file(stem, header)


def read_record(record, data_dir=None, lead=0, fs=None):
    """Read one lead of a WFDB record in physical units.

    Parameters
    ----------
    record : str
        Record name (``"100"``, looked up in the database folder) or a path stem
        such as ``"/data/mydb/rec1"`` for any WFDB record.
    data_dir : str or path-like, optional
        Database folder (see :func:`find_data_dir`).
    lead : int or str
        Channel index or lead name (``"MLII"``). Lead 0 is MLII in all MIT-BIH
        records but 102, 104 (V5; paced, excluded) and 114 (V5, its MLII is lead 1).
    fs : float, optional
        Resample to this frequency (Hz) if the file's differs; None (the
        default) keeps the file's. The course's method assumes 360 Hz
        (``FS_MITDB``): pass ``fs=FS_MITDB`` for a record at another rate
        (:func:`ecgtut.load_beats` does), which is resampled, never refused.

    Returns
    -------
    Record

    Raises
    ------
    DataError
        Missing or truncated files, unknown record or lead.

    Examples
    --------
    >>> rec = read_record("100")
    >>> rec.signal.shape, rec.fs, rec.lead
    ((650000,), 360, 'MLII')
    """
    import wfdb

    stem = _record_path(record, data_dir)
    pick = {"channel_names": [lead]} if isinstance(lead, str) else {"channels": [lead]}
    try:
        rec = wfdb.rdrecord(str(stem), **pick)
    except Exception as exc:
        _diagnose(stem, lead)  # raises a precise DataError when it can tell what is wrong
        raise DataError(f"record {stem.name}: cannot be read ({exc})") from exc
    if rec.p_signal is None or (rec.sig_len and len(rec.p_signal) < rec.sig_len):
        _diagnose(stem, lead)
    signal = rec.p_signal[:, 0]
    if fs is not None and fs != rec.fs:
        from wfdb.processing import resample_sig

        signal, _ = resample_sig(signal, rec.fs, fs)
    return Record(
        name=stem.name,
        signal=signal,
        fs=fs or rec.fs,
        lead=rec.sig_name[0],
        units=rec.units[0],
        fs_original=rec.fs,
    )


def read_annotations(record, data_dir=None, extension="atr", fs=None):
    """Read the reference annotations of a record (all of them, beats and others).

    Parameters
    ----------
    record : str
        Record name or path stem, as in :func:`read_record`.
    data_dir : str or path-like, optional
        Database folder.
    extension : str
        Annotation file extension (``"atr"`` for MIT-BIH's reference).
    fs : float, optional
        Rescale the sample indices to this frequency (Hz), to match a resampled
        :class:`Record`.

    Returns
    -------
    Annotations
        Use ``.beats()`` to keep heartbeats only.

    Examples
    --------
    >>> ann = read_annotations("100")
    >>> len(ann.sample), len(ann.beats().sample)
    (2274, 2273)
    """
    import wfdb

    stem = _record_path(record, data_dir)
    if not stem.with_suffix(f".{extension}").is_file():
        raise DataError(f"record {stem.name}: annotation file {stem.name}.{extension} is missing")
    try:
        ann = wfdb.rdann(str(stem), extension)
    except Exception as exc:
        raise DataError(f"record {stem.name}: annotations cannot be read ({exc})") from exc
    sample = np.asarray(ann.sample, dtype=np.int64)
    file_fs = ann.fs or wfdb.rdheader(str(stem)).fs
    if fs is not None and fs != file_fs:
        sample = np.round(sample * (fs / file_fs)).astype(np.int64)
    return Annotations(sample, np.asarray(ann.symbol, dtype="<U2"), fs or file_fs)


def count_symbols(records=None, data_dir=None):
    """Count every annotation symbol (beats and non-beats) over a set of records.

    Parameters
    ----------
    records : list of str, optional
        Record names; default the 44 non-paced records (``RECORDS``).
    data_dir : str or path-like, optional
        Database folder (see :func:`find_data_dir`).

    Returns
    -------
    dict
        ``{symbol: count}``, most frequent first. Map a symbol to its class
        with :func:`aami_class` (None for non-beat annotations).

    Examples
    --------
    >>> count_symbols(["100"])
    {'N': 2239, 'A': 33, '+': 1, 'V': 1}
    """
    counts = Counter()
    for record in records or RECORDS:
        counts.update(read_annotations(record, data_dir).symbol.tolist())
    return dict(counts.most_common())
