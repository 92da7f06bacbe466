"""Chapter 01 -- reading ECG records and their annotations; the AAMI heartbeat classes.

Reading goes through wfdb (``wfdb.rdrecord``, ``wfdb.rdann``) and works for any
WFDB record at any sampling frequency. The MIT-BIH record lists, the data
folder and the download live in :mod:`ecgtut.database`. wfdb is imported by
the functions that read, not with this module.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ecgtut.database import RECORDS, RECORDS_ALL, DataError, find_data_dir

__all__ = [
    "AAMI_CLASSES",
    "AAMI_NAMES",
    "AAMI_SYMBOLS",
    "DEFAULT_LEAD",
    "Annotations",
    "Record",
    "aami_class",
    "count_symbols",
    "read_annotations",
    "read_record",
]

DEFAULT_LEAD = "MLII"
"""The lead the course reads unless told otherwise: modified limb lead II, the
first channel of every MIT-BIH record but 102, 104 (paced) and 114 (channel 1)."""

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
    n_invalid : int
        Samples the file marks as invalid (not measured), NaN in ``signal``; fill
        them with :func:`ecgtut.interpolate_invalid` before denoising.
    """

    name: str
    signal: np.ndarray
    fs: float
    lead: str
    units: str
    fs_original: float
    n_invalid: int = 0

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


def _looks_like_a_path(text):
    """True for ``./100``, ``data/rec1``, ``~/rec``, ``rec.hea``, ``rec.edf``: not a bare name."""
    return (os.sep in text or "/" in text or text.startswith((".", "~"))
            or text.lower().endswith((".hea", ".edf")))


def _record_path(record, data_dir):
    """Where a record is: a WFDB path stem, or the path of an EDF file.

    A path that exists is that file (``./100``, ``data/rec1``, ``rec1.hea``,
    ``rec1.edf``); a bare name (``100``) is a record of the current folder if
    ``100.hea`` is there and no ``data_dir`` was given, else one of the
    database folder. Raises a one-line :class:`DataError` naming what is missing.
    """
    text = str(record)  # a record may be given as a number: 100
    stem = Path(text).expanduser()
    if text.lower().endswith(".edf"):
        if not stem.is_file():
            raise DataError(f"record {text}: EDF file {stem} not found")
        return stem
    if text.endswith(".hea"):
        stem = stem.with_suffix("")
    local = Path(f"{stem}.hea").is_file()
    if _looks_like_a_path(text) or (local and data_dir is None):
        if not local:
            what = "a folder, not a record" if stem.is_dir() else "not found"
            raise DataError(f"record {text}: header {stem}.hea {what}")
        return stem
    stem = find_data_dir(data_dir) / text
    if not Path(f"{stem}.hea").is_file():
        known = "" if text in RECORDS_ALL else " (MIT-BIH records are 100 to 234)"
        raise DataError(f"record {text}: header {stem}.hea not found{known}")
    return stem


def _is_edf(path):
    """True if ``path`` (from :func:`_record_path`) is an EDF file rather than a WFDB stem."""
    return str(path).lower().endswith(".edf")


def _read_edf(path, lead):
    """One lead of an EDF file (wfdb's reader), as read_record's ``(signal, fs, name, unit)``."""
    from wfdb.io.convert.edf import read_edf

    try:
        rec = read_edf(str(path))
    except Exception as exc:  # not EDF, truncated, or a header wfdb cannot parse
        raise DataError(f"record {path.name}: cannot be read as EDF ({exc})") from exc
    names = list(rec.sig_name or [])
    if isinstance(lead, str) and lead not in names:
        raise DataError(f"record {path.name}: no lead {lead!r} (has {', '.join(names)})")
    channel = names.index(lead) if isinstance(lead, str) else lead
    if not 0 <= channel < len(names):
        raise DataError(f"record {path.name}: lead {lead} out of range (has {len(names)})")
    return rec.p_signal[:, channel], float(rec.fs), names[channel], rec.units[channel]


def _lead_names(record, data_dir=None):
    """The lead names of a record (WFDB or EDF), from its header.

    Example
    -------
    >>> _lead_names("100")
    ['MLII', 'V5']
    """
    import wfdb

    path = _record_path(record, data_dir)
    try:
        if _is_edf(path):
            from wfdb.io.convert.edf import read_edf

            return list(read_edf(str(path), header_only=True)["sig_name"])
        return list(wfdb.rdheader(str(path)).sig_name or [])
    except Exception as exc:
        raise DataError(f"record {path.name}: header cannot be read ({exc})") from exc


#: Bytes per sample of each WFDB signal format (PhysioNet's signal(5) page); the
#: FLAC formats 508, 516 and 524 are compressed, so their size says nothing.
_BYTES_PER_SAMPLE = {"8": 1, "16": 2, "24": 3, "32": 4, "61": 2, "80": 1, "160": 2,
                     "212": 1.5, "310": 4 / 3, "311": 4 / 3}


def _check_signal_file(stem, header):
    """Raise DataError if the signal file is missing or shorter than the header says."""
    path = stem.parent / header.file_name[0]
    if not path.is_file():
        raise DataError(f"record {stem.name}: signal file {path} is missing")
    if not header.sig_len:  # length unknown from the header: nothing to compare
        return
    per_sample = sum(_BYTES_PER_SAMPLE.get(f, 0) for f, n in zip(header.fmt, header.file_name)
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


def read_record(record, data_dir=None, lead=DEFAULT_LEAD, fs=None, sampto=None):
    """Read one lead of a WFDB record in physical units.

    Parameters
    ----------
    record : str
        Record name (``"100"``, looked up in the database folder), a path stem
        such as ``"/data/mydb/rec1"`` or ``"./rec1"`` (or ``"rec1.hea"``) for any
        WFDB record, or an EDF file (``"holter.edf"``, read with wfdb's EDF
        reader). A path that exists is that file: a name is looked up in the
        database only when nothing local matches.
    data_dir : str or path-like, optional
        Database folder (see :func:`find_data_dir`).
    lead : int or str
        Lead name or channel index; default :data:`DEFAULT_LEAD` (``"MLII"``,
        channel 0 of every MIT-BIH record but 102 and 104, which have none, and
        114, where it is channel 1). For other databases, name a lead they have
        or give a channel index (0 is the first).
    fs : float, optional
        Resample to this frequency (Hz) if the file's differs; None (the
        default) keeps the file's. The course's method assumes 360 Hz
        (``FS_MITDB``): pass ``fs=FS_MITDB`` for a record at another rate
        (:func:`ecgtut.load_beats` does), which is resampled, never refused.
    sampto : int, optional
        Read only the first ``sampto`` samples (at the file's frequency).

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
    if _is_edf(stem):
        signal, file_fs, lead_name, unit = _read_edf(stem, lead)
        signal = signal[:sampto]
        invalid = ~np.isfinite(signal)
        if fs is not None and fs != file_fs:
            signal = _resample(signal, invalid, file_fs, fs)
        return Record(name=stem.stem, signal=signal, fs=fs or file_fs, lead=lead_name,
                      units=unit, fs_original=file_fs, n_invalid=int(invalid.sum()))
    pick = {"channel_names": [lead]} if isinstance(lead, str) else {"channels": [lead]}
    try:
        rec = wfdb.rdrecord(str(stem), **pick, **({} if sampto is None else {"sampto": sampto}))
    except Exception as exc:
        _diagnose(stem, lead)  # raises a precise DataError when it can tell what is wrong
        raise DataError(f"record {stem.name}: cannot be read ({exc})") from exc
    if rec.p_signal is None or (rec.sig_len and len(rec.p_signal) < rec.sig_len):
        _diagnose(stem, lead)
    signal = rec.p_signal[:, 0]
    invalid = ~np.isfinite(signal)  # wfdb reads the file's invalid-sample markers as NaN
    if fs is not None and fs != rec.fs:
        signal = _resample(signal, invalid, rec.fs, fs)
    return Record(
        name=stem.name,
        signal=signal,
        fs=fs or rec.fs,
        lead=rec.sig_name[0],
        units=rec.units[0],
        fs_original=rec.fs,
        n_invalid=int(invalid.sum()),
    )


def _resample(signal, invalid, fs, new_fs):
    """Resample to ``new_fs`` Hz; a sample stays NaN where its nearest original one was invalid."""
    from wfdb.processing import resample_sig

    from ecgtut.denoise import interpolate_invalid

    if invalid.any():
        signal = interpolate_invalid(signal)[0]  # a NaN would spread through the resampler
    out, _ = resample_sig(signal, fs, new_fs)
    if invalid.any():
        nearest = np.round(np.arange(len(out)) * fs / new_fs).astype(int).clip(0, len(invalid) - 1)
        out[invalid[nearest]] = np.nan
    return out


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
    if _is_edf(stem):
        raise DataError(f"record {stem.name}: an EDF file holds no WFDB annotations")
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


def count_symbols(data_dir=None, records=None):
    """Count every annotation symbol (beats and non-beats) over a set of records.

    Parameters
    ----------
    data_dir : str or path-like, optional
        Database folder (see :func:`ecgtut.find_data_dir`).
    records : list of str, optional
        Record names; default the 44 non-paced records (``RECORDS``).

    Returns
    -------
    dict
        ``{symbol: count}``, most frequent first. Map a symbol to its class
        with :func:`aami_class` (None for non-beat annotations).

    Examples
    --------
    >>> count_symbols(records=["100"])
    {'N': 2239, 'A': 33, '+': 1, 'V': 1}
    """
    counts = Counter()
    for record in records or RECORDS:
        counts.update(read_annotations(record, data_dir).symbol.tolist())
    return dict(counts.most_common())
