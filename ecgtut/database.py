"""Chapter 01 -- the MIT-BIH Arrhythmia Database: its records, where it lives, download and verify.

Only this module and the checksum table beside it are specific to MIT-BIH;
reading (:mod:`ecgtut.data`) works for any WFDB record. wfdb (which imports
pandas) is imported by the functions that download, not with this module, so
the record lists and :class:`DataError` cost nothing to import (the CLI's
``--help`` needs them).

Where the database lives, in order of precedence:

1. an explicit ``data_dir`` argument (the CLI's ``--data``);
2. the environment variable ``ECGTUT_DATA``;
3. ``$XDG_DATA_HOME/ecgtut/mitdb`` (by default ``~/.local/share/ecgtut/mitdb``),
   where ``ecgtut download`` puts it.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

__all__ = [
    "DS1",
    "DS2",
    "FS_MITDB",
    "RECORDS",
    "RECORDS_ALL",
    "RECORDS_PACED",
    "DataError",
    "DataWarning",
    "cache_dir",
    "default_data_dir",
    "download_mitdb",
    "find_data_dir",
    "get_mitdb",
    "record_checksum_problems",
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

_CHECKSUMS = Path(__file__).with_name("mitdb_SHA256SUMS.txt")


class DataError(Exception):
    """A problem with the database on disk: missing, incomplete or unreadable.

    The CLI prints its message as one line and exits non-zero; a notebook shows it as
    one line too, without a traceback (IPython calls ``_render_traceback_``).
    """

    def _render_traceback_(self):
        return [f"DataError: {self}"]


class DataWarning(UserWarning):
    """A problem with the data that a run works around: a damaged cache file that is
    rebuilt, a file that fails its checksum. The CLI prints it as one line."""


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


def _locate(data_dir=None):
    """(folder, where it came from): ``data_dir`` > ``$ECGTUT_DATA`` > the default folder."""
    if data_dir is not None:
        return Path(data_dir).expanduser(), "the folder given"
    if os.environ.get("ECGTUT_DATA"):
        return Path(os.environ["ECGTUT_DATA"]).expanduser(), "ECGTUT_DATA"
    return default_data_dir(), "the default folder"


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
    ecgtut.database.DataError: database folder not found: /no/such/folder (the folder given); ...
    """
    path, origin = _locate(data_dir)
    if not path.is_dir():
        raise DataError(
            f"database folder not found: {path} ({origin}); run 'ecgtut download' "
            "or set ECGTUT_DATA to a folder holding MIT-BIH (e.g. ../shared/mitdb)"
        )
    return path


def _hosted_notebook():
    """Name of the hosted service this kernel runs on ("Colab", "Binder"), else None."""
    import sys

    if "google.colab" in sys.modules:
        return "Colab"
    if os.environ.get("BINDER_SERVICE_HOST") or os.environ.get("BINDER_REQUEST"):
        return "Binder"
    return None


def get_mitdb(download=None, data_dir=None):
    """The set-up step of every chapter: find MIT-BIH, or download it, or say how to get it.

    Looks where :func:`find_data_dir` looks (``data_dir`` > ``$ECGTUT_DATA`` >
    ``~/.local/share/ecgtut/mitdb``) for the files of record 100.

    Parameters
    ----------
    download : bool or None
        What to do when the database is not there. ``True``: fetch it from PhysioNet
        with :func:`download_mitdb` (about 100 MB, a few minutes). ``False``: raise.
        ``None`` (default): download on a hosted notebook (Colab, Binder), where
        nothing is on disk yet, and raise anywhere else.
    data_dir : str or path-like, optional
        Explicit folder, as for :func:`find_data_dir`.

    Returns
    -------
    pathlib.Path
        The folder holding ``100.hea``, ``100.dat``, ``100.atr``, ...

    Raises
    ------
    DataError
        When the database is missing and not downloaded. Its message is one line
        that says how to get the data; a notebook shows just that line.

    Example
    -------
    >>> get_mitdb(download=False, data_dir="/no/such/folder")
    Traceback (most recent call last):
    ...
    ecgtut.database.DataError: MIT-BIH is not in /no/such/folder (the folder given): ...
    """
    path, origin = _locate(data_dir)
    if all((path / f"100.{ext}").is_file() for ext in ("hea", "dat", "atr")):
        return path
    if download is None:
        download = _hosted_notebook() is not None
    if download:
        print(f"MIT-BIH is not in {origin} yet: downloading it from PhysioNet (about 100 MB)")
        return download_mitdb(path)
    raise DataError(
        f"MIT-BIH is not in {path} ({origin}): run et.get_mitdb(download=True) to fetch it "
        "from PhysioNet (about 100 MB), or 'ecgtut download' in a terminal, "
        "or set ECGTUT_DATA to a folder that holds it"
    )


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
        ``{file name: "missing" | "unreadable (reason)" | "mismatch"}`` for each
        bad file; empty when all match. An unreadable file is named and the
        others are still checked.

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
        problem = _file_problem(folder / name, digest)
        if problem:
            problems[name] = problem
    return problems


def _file_problem(path, digest):
    """``"missing"``, ``"unreadable (reason)"``, ``"mismatch"`` or None for an intact file."""
    if not path.is_file():
        return "missing"
    try:
        data = path.read_bytes()
    except OSError as exc:  # e.g. chmod 000: name the file and go on with the others
        return f"unreadable ({exc.strerror or exc})"
    return None if hashlib.sha256(data).hexdigest() == digest else "mismatch"


def record_checksum_problems(record, data_dir=None):
    """What is wrong with the files of one MIT-BIH record, by PhysioNet's checksums.

    Records of other databases (names that are not MIT-BIH's) have no
    published checksums and give no problem.

    Parameters
    ----------
    record : str
        Record name (looked up in ``data_dir``) or path stem, as in
        :func:`ecgtut.read_record`.
    data_dir : str or path-like, optional
        Database folder (see :func:`find_data_dir`).

    Returns
    -------
    dict
        ``{path: "does not match PhysioNet's checksum" | "cannot be read (...)"}``
        for each present file that fails; empty when all match. Missing files
        are left to the reader, which names them.

    Example
    -------
    >>> record_checksum_problems("100")   # the files of $ECGTUT_DATA
    {}
    """
    stem = Path(str(record)).expanduser()
    if stem.parent == Path("."):
        stem = find_data_dir(data_dir) / str(record)
    if stem.name not in RECORDS_ALL:
        return {}
    table, problems = _expected_checksums(), {}
    for ext in ("hea", "dat", "atr"):
        path = stem.with_name(f"{stem.name}.{ext}")
        problem = _file_problem(path, table[path.name]) if path.is_file() else None
        if problem == "mismatch":
            problems[str(path)] = "does not match PhysioNet's checksum"
        elif problem:
            problems[str(path)] = problem.replace("unreadable", "cannot be read")
    return problems


def download_mitdb(data_dir=None, records=None, progress=True):
    """Download MIT-BIH from PhysioNet with wfdb, then verify the checksums.

    Parameters
    ----------
    data_dir : str or path-like, optional
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

    dest = Path(data_dir).expanduser() if data_dir is not None else default_data_dir()
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
