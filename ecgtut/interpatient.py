"""Chapter 06 -- the inter-patient protocol: train on DS1, test on DS2, never mix them.

de Chazal et al. (2004) split the 44 records into two sets of 22 patients,
DS1 and DS2, with similar class mixes (:data:`ecgtut.DS1`, :data:`ecgtut.DS2`).
Everything is learnt and tuned on DS1 alone; DS2 is looked at once, to score.
:func:`split_patients` makes the two parts of a beat set, and
:func:`check_training_records` is the guard every training step of the chapter
goes through: a single DS2 beat in a training set stops the run.

Example
-------
>>> check_training_records(["101", "106"])          # DS1 records: fine
>>> check_training_records(["101", "100"])          # 100 is a DS2 patient
Traceback (most recent call last):
...
ecgtut.interpatient.PatientLeakError: 1 training beat(s) come from DS2 (record 100): ...
"""

from __future__ import annotations

import numpy as np

from ecgtut.database import DS1, DS2

__all__ = ["PatientLeakError", "check_training_records", "split_patients"]


class PatientLeakError(AssertionError):
    """A beat of a test patient (DS2) was about to be used for training or tuning."""


def check_training_records(records, test_records=DS2):
    """Refuse any beat of a test patient in a training (or validation) set.

    Parameters
    ----------
    records : array of str, shape (n_beats,)
        Record (patient) of each beat about to be trained or tuned on.
    test_records : sequence of str
        The patients kept for testing (default :data:`ecgtut.DS2`).

    Raises
    ------
    PatientLeakError
        Naming how many beats and which records leak.
    """
    records = np.asarray(records).astype(str)
    leak = np.isin(records, list(test_records))
    if leak.any():
        names = ", ".join(sorted(set(records[leak].tolist())))
        raise PatientLeakError(f"{int(leak.sum())} training beat(s) come from DS2 (record "
                               f"{names}): the inter-patient protocol never trains or tunes "
                               "on a test patient")


def split_patients(beats, classes=("N", "S", "V", "F"), train_records=DS1, test_records=DS2):
    """Row indices of the training (DS1) and test (DS2) beats of a beat set.

    Parameters
    ----------
    beats : BeatSet
        E.g. ``et.load_beats()`` (the 44 records).
    classes : sequence of str
        Classes kept (the default leaves out Q: 8 beats in DS1, 7 in DS2).
    train_records, test_records : sequences of str
        The two groups of patients (default: de Chazal's DS1 and DS2).

    Returns
    -------
    train, test : np.ndarray of int
        Indices into the rows of ``beats``; no record is in both.

    Raises
    ------
    ValueError
        If the two groups of records overlap.
    """
    overlap = set(train_records) & set(test_records)
    if overlap:
        raise ValueError(f"records {sorted(overlap)} are in both groups")
    keep = np.isin(beats.aami, list(classes))
    train = np.flatnonzero(keep & np.isin(beats.record, list(train_records)))
    test = np.flatnonzero(keep & np.isin(beats.record, list(test_records)))
    check_training_records(beats.record[train], test_records)
    return train, test
