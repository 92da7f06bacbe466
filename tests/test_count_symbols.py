"""count_symbols: annotation symbols counted over records (chapter 01), on the real database."""

import pytest

import ecgtut as et


def _by_class(counts):
    return {c: sum(n for s, n in counts.items() if et.aami_class(s) == c) for c in et.AAMI_CLASSES}


def test_record_100(data_dir):
    assert et.count_symbols(data_dir, ["100"]) == {"N": 2239, "A": 33, "V": 1, "+": 1}


def test_most_frequent_first_and_all_annotations_counted(data_dir):
    counts = et.count_symbols(data_dir, ["119", "207"])
    assert list(counts.values()) == sorted(counts.values(), reverse=True)
    total = sum(len(et.read_annotations(r, data_dir).sample) for r in ("119", "207"))
    assert sum(counts.values()) == total
    assert {"+", "~", "!", "[", "]"} <= set(counts)  # non-beat annotations are counted too


def test_default_is_the_44_records(data_dir):
    counts = et.count_symbols(data_dir=data_dir)
    assert counts == et.count_symbols(data_dir, et.RECORDS)
    assert "/" not in counts and "f" not in counts  # paced beats live only in 102, 104, 107, 217


@pytest.mark.parametrize("records, expected", [
    # SPEC section 6: beats per class from the annotations, no edge trimming
    (et.DS1, {"N": 45866, "S": 944, "V": 3788, "F": 415, "Q": 8}),
    (et.DS2, {"N": 44259, "S": 1837, "V": 3221, "F": 388, "Q": 7}),
])
def test_aami_counts_of_the_inter_patient_sets(data_dir, records, expected):
    assert _by_class(et.count_symbols(data_dir, records)) == expected


def test_missing_record_is_a_data_error(data_dir):
    with pytest.raises(et.DataError, match="999"):
        et.count_symbols(data_dir, ["999"])
