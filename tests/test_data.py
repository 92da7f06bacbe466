"""Chapter 01 -- ecgtut.data: AAMI classes, record lists, locating, verifying,
downloading (with wfdb's download functions faked) and reading MIT-BIH."""

from __future__ import annotations

import numpy as np
import pytest

import ecgtut
from ecgtut.database import DataError

# ----------------------------------------------------------------------------- AAMI classes

# SPEC section 2, symbol by symbol.
SPEC_AAMI = {
    "N": "N L R e j",
    "S": "A a J S",
    "V": "V E",
    "F": "F",
    "Q": "/ f Q",
}

# Non-beat annotations found in MIT-BIH .atr files (rhythm, noise, flutter waves,
# non-conducted P waves, comments, ...) and a few made-up strings.
NON_BEATS = ["+", "~", "|", "!", "x", "[", "]", '"', "(", ")", "p", "t", "u", "^", "", "NN", "n"]


@pytest.mark.parametrize(
    "symbol, cls", [(s, c) for c, symbols in SPEC_AAMI.items() for s in symbols.split()]
)
def test_aami_class_of_each_beat_symbol(symbol, cls):
    assert ecgtut.aami_class(symbol) == cls


@pytest.mark.parametrize("symbol", NON_BEATS)
def test_aami_class_of_non_beats_is_none(symbol):
    assert ecgtut.aami_class(symbol) is None


def test_aami_tables_agree_with_spec():
    assert ecgtut.AAMI_CLASSES == ("N", "S", "V", "F", "Q")
    assert {c: set(s) for c, s in ecgtut.AAMI_SYMBOLS.items()} == {
        c: set(s.split()) for c, s in SPEC_AAMI.items()
    }
    assert set(ecgtut.AAMI_NAMES) == set(ecgtut.AAMI_CLASSES)


# ----------------------------------------------------------------------------- record lists


def test_record_lists():
    all_, paced, used = ecgtut.RECORDS_ALL, ecgtut.RECORDS_PACED, ecgtut.RECORDS
    assert len(all_) == len(set(all_)) == 48
    assert sorted(paced) == ["102", "104", "107", "217"]
    assert set(paced) <= set(all_)
    assert len(used) == 44
    assert set(used) == set(all_) - set(paced)
    assert list(used) == sorted(used)


def test_inter_patient_split():
    ds1, ds2 = set(ecgtut.DS1), set(ecgtut.DS2)
    assert len(ecgtut.DS1) == len(ds1) == 22
    assert len(ecgtut.DS2) == len(ds2) == 22
    assert not ds1 & ds2
    assert ds1 | ds2 == set(ecgtut.RECORDS)


def test_record_list_matches_physionet_index(data_dir):
    index = data_dir / "RECORDS"
    if not index.is_file():
        pytest.skip("no RECORDS index file in the data folder")
    assert index.read_text().split() == ecgtut.RECORDS_ALL


# ----------------------------------------------------------------------------- locations


def test_find_data_dir_precedence(tmp_path, monkeypatch):
    explicit, env, xdg = tmp_path / "explicit", tmp_path / "env", tmp_path / "xdg"
    explicit.mkdir()
    env.mkdir()
    (xdg / "ecgtut" / "mitdb").mkdir(parents=True)
    monkeypatch.setenv("XDG_DATA_HOME", str(xdg))
    monkeypatch.setenv("ECGTUT_DATA", str(env))
    assert ecgtut.find_data_dir(explicit) == explicit
    assert ecgtut.find_data_dir() == env
    monkeypatch.delenv("ECGTUT_DATA")
    assert ecgtut.find_data_dir() == xdg / "ecgtut" / "mitdb" == ecgtut.default_data_dir()


@pytest.mark.parametrize("how", ["argument", "ECGTUT_DATA", "default"])
def test_find_data_dir_missing_says_how_to_get_the_data(how, tmp_path, monkeypatch):
    missing = tmp_path / "nowhere"
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("ECGTUT_DATA", raising=False)
    if how == "ECGTUT_DATA":
        monkeypatch.setenv("ECGTUT_DATA", str(missing))
    with pytest.raises(DataError) as info:
        ecgtut.find_data_dir(missing if how == "argument" else None)
    message = str(info.value)
    assert "ecgtut download" in message and "ECGTUT_DATA" in message
    assert "\n" not in message


def test_a_tilde_means_the_home_folder(tmp_path, monkeypatch):
    # Python does not expand "~" by itself: a notebook passing "~/mitdb" means the home folder
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "mitdb").mkdir()
    assert ecgtut.find_data_dir("~/mitdb") == tmp_path / "mitdb"
    monkeypatch.setenv("ECGTUT_DATA", "~/mitdb")
    assert ecgtut.find_data_dir() == tmp_path / "mitdb"
    monkeypatch.setenv("ECGTUT_CACHE", "~/cache")
    assert ecgtut.cache_dir() == tmp_path / "cache"


def test_download_to_a_folder_under_home(tmp_path, monkeypatch, fake_physionet):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)  # where a literal "~" folder would appear
    home = tmp_path / "home"
    assert ecgtut.download_mitdb("~/dl", records=["100"], progress=False) == home / "dl"
    assert (home / "dl" / "100.hea").is_file() and not (tmp_path / "~").exists()


def test_cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ECGTUT_CACHE", str(tmp_path / "c"))
    assert ecgtut.cache_dir() == tmp_path / "c"
    monkeypatch.delenv("ECGTUT_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert ecgtut.cache_dir() == tmp_path / "xdg" / "ecgtut"


def test_session_cache_is_not_the_users(_session_cache):
    assert ecgtut.cache_dir() == _session_cache


# ----------------------------------------------------------------------------- verify


def test_verify_the_database(data_dir):
    assert ecgtut.verify_mitdb(data_dir) == {}


def test_verify_names_bad_and_missing_files(mitdb_links, replace_file):
    dat = mitdb_links / "101.dat"
    data = bytearray(dat.read_bytes())
    data[1000] ^= 0x01
    replace_file(dat, bytes(data))
    (mitdb_links / "102.atr").unlink()
    assert ecgtut.verify_mitdb(mitdb_links) == {"101.dat": "mismatch", "102.atr": "missing"}
    assert ecgtut.verify_mitdb(mitdb_links, records=["100", "103"]) == {}
    assert ecgtut.verify_mitdb(mitdb_links, records=[101]) == {"101.dat": "mismatch"}


def test_verify_refuses_records_it_has_no_checksum_for(tmp_path):
    """An empty folder must not pass as intact because the name was not recognised."""
    with pytest.raises(ValueError, match="no checksum for record.* 999, x: MIT-BIH's records"):
        ecgtut.verify_mitdb(tmp_path, records=["100", "999", "x"])
    assert ecgtut.verify_mitdb(tmp_path, records=[100]) == {
        "100.atr": "missing", "100.dat": "missing", "100.hea": "missing"}


# ----------------------------------------------------------------------------- download


def test_download_some_records(fake_physionet, tmp_path):
    dest = tmp_path / "new" / "mitdb"  # parents are created
    folder = ecgtut.download_mitdb(dest, records=["100", "233"], progress=False)
    assert folder == dest
    assert {p.name for p in dest.iterdir()} == {
        "100.hea", "100.dat", "100.atr", "233.hea", "233.dat", "233.atr",
        "RECORDS", "ANNOTATORS", "SHA256SUMS.txt",
    }
    assert ecgtut.verify_mitdb(dest, records=["100", "233"]) == {}
    assert ("dl_database", ["100"], ["atr"]) in fake_physionet["calls"]


def test_download_corrupted_file_is_an_error(fake_physionet, tmp_path):
    fake_physionet["corrupt"] = "105.dat"
    with pytest.raises(DataError, match=r"105\.dat \(mismatch\)"):
        ecgtut.download_mitdb(tmp_path, records=["100", "105"], progress=False)


def test_download_network_error_is_a_data_error(fake_physionet, tmp_path):
    fake_physionet["error"] = ConnectionError("Max retries exceeded with url: /mitdb/100.hea")
    with pytest.raises(DataError, match="download from PhysioNet failed: Max retries"):
        ecgtut.download_mitdb(tmp_path, records=["100"], progress=False)


# ----------------------------------------------------------------------------- reading


def test_read_record(data_dir):
    rec = ecgtut.read_record("100", data_dir)
    assert rec.name == "100"
    assert rec.signal.shape == (650000,) and rec.signal.dtype == np.float64
    assert rec.fs == rec.fs_original == 360
    assert rec.lead == "MLII" and rec.units == "mV"
    assert rec.duration == pytest.approx(650000 / 360)
    assert -5 < rec.signal.min() < rec.signal.max() < 5  # millivolts, not ADC units
    v5 = ecgtut.read_record("100", data_dir, lead="V5")
    assert v5.lead == "V5" and not np.array_equal(v5.signal, rec.signal)
    assert ecgtut.read_record("102", data_dir, lead=0).lead == "V5"  # SPEC section 1
    assert ecgtut.read_record("114", data_dir).lead == "MLII"  # the default lead, on channel 1
    assert ecgtut.read_record("114", data_dir, lead=0).lead == "V5"
    with pytest.raises(DataError, match=r"record 102: no lead 'MLII' \(has V5, V2\)"):
        ecgtut.read_record("102", data_dir)  # paced: no MLII at all


def test_read_record_by_number(data_dir):
    assert ecgtut.read_record(100, data_dir).signal.shape == (650000,)
    assert len(ecgtut.read_annotations(100, data_dir).beats().sample) == 2273


def test_read_record_by_path_stem(data_dir):
    rec = ecgtut.read_record(str(data_dir / "100"))
    assert rec.name == "100" and rec.signal.shape == (650000,)


@pytest.mark.parametrize("lead, message", [("V9", "no lead 'V9'"), (2, "out of range")])
def test_read_record_bad_lead(data_dir, lead, message):
    with pytest.raises(DataError, match=message):
        ecgtut.read_record("100", data_dir, lead=lead)


def test_read_unknown_record(data_dir):
    with pytest.raises(DataError, match="record 999.*MIT-BIH records are 100 to 234"):
        ecgtut.read_record("999", data_dir)


def test_read_annotations(data_dir):
    ann = ecgtut.read_annotations("100", data_dir)
    assert ann.fs == 360
    assert len(ann.sample) == 2274
    assert ann.symbol[0] == "+" and not ann.is_beat[0]  # rhythm annotation at sample 18
    beats = ann.beats()
    assert len(beats.sample) == 2273
    symbols, counts = np.unique(beats.symbol, return_counts=True)
    assert dict(zip(symbols.tolist(), counts.tolist())) == {"N": 2239, "A": 33, "V": 1}
    assert beats.sample[:2].tolist() == [77, 370]
    assert beats.sample[-1] == 649991
    assert np.all(np.diff(beats.sample) > 0)


def test_read_annotations_missing(mitdb_links):
    (mitdb_links / "100.atr").unlink()
    with pytest.raises(DataError, match=r"record 100: annotation file 100\.atr is missing"):
        ecgtut.read_annotations("100", mitdb_links)


# SPEC section 6: beats per class from the annotations, no edge trimming.
SPEC_INTER_PATIENT = {
    "DS1": {"N": 45866, "S": 944, "V": 3788, "F": 415, "Q": 8},
    "DS2": {"N": 44259, "S": 1837, "V": 3221, "F": 388, "Q": 7},
}


@pytest.mark.parametrize("name", ["DS1", "DS2"])
def test_inter_patient_annotation_counts(data_dir, name):
    counts = dict.fromkeys(ecgtut.AAMI_CLASSES, 0)
    for record in getattr(ecgtut, name):
        aami = ecgtut.read_annotations(record, data_dir).beats().aami
        for c in counts:
            counts[c] += int(np.sum(aami == c))
    assert counts == SPEC_INTER_PATIENT[name]


def test_record_at_another_frequency_is_resampled(mitdb_250hz, data_dir):
    raw = ecgtut.read_record("100", mitdb_250hz)
    assert raw.fs == raw.fs_original == 250 and raw.signal.shape == (650000,)
    rec = ecgtut.read_record("100", mitdb_250hz, fs=360)
    assert rec.fs == 360 and rec.fs_original == 250
    assert rec.signal.shape == (936000,)  # 2600 s at 360 Hz
    assert rec.duration == pytest.approx(raw.duration)
    ann = ecgtut.read_annotations("100", mitdb_250hz, fs=360)
    ref = ecgtut.read_annotations("100", data_dir)
    assert ann.fs == 360
    np.testing.assert_array_equal(ann.sample, np.round(ref.sample * 1.44).astype(int))
    np.testing.assert_array_equal(ann.symbol, ref.symbol)
