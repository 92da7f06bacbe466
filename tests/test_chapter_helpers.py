"""Small helpers that the chapter notebooks call (figures and processing), one section per chapter.

Figures are checked by structure (axes, titles, labels, what was drawn), then closed.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import ecgtut  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# ----------------------------------------------------------------------------- chapter 03


def _spans(ax):
    """(x0, x1, rgba) of each axvspan rectangle of ``ax``."""
    out = []
    for p in ax.patches:
        xy = np.asarray(p.get_xy()) if hasattr(p, "get_xy") else None
        if xy is not None and xy.ndim == 2:  # Polygon (matplotlib < 3.9)
            out.append((xy[:, 0].min(), xy[:, 0].max(), p.get_facecolor()))
        else:  # Rectangle
            out.append((p.get_x(), p.get_x() + p.get_width(), p.get_facecolor()))
    return out


def test_plot_beat_windows_shades_kept_and_dropped_windows():
    fs, x = 360, np.zeros(3600)  # 10 s
    r = np.array([36, 1800, 3500])  # 0.1 s: crosses the start; 5 s: inside; 9.72 s: crosses the end
    ax = ecgtut.plot_beat_windows(x, fs, r, start=0, duration=10, highlight=[0, 1, 2])
    spans = _spans(ax)
    assert len(spans) == 3
    assert np.allclose([s[:2] for s in spans], [(0.1 - 0.4, 0.6), (4.6, 5.5), (3500 / fs - 0.4,
                                                                            3500 / fs + 0.5)])
    green, red = matplotlib.colors.to_rgb("tab:green"), matplotlib.colors.to_rgb("tab:red")
    assert [tuple(np.round(s[2][:3], 3)) for s in spans] == [
        tuple(np.round(c, 3)) for c in (red, green, red)]
    labels = ax.get_legend_handles_labels()[1]
    assert labels == ["R peak", "window past the record end: dropped", "window kept"]
    assert ax.get_xlim()[0] <= -0.3 and ax.get_xlim()[1] >= 3500 / fs + 0.5  # windows shown whole
    texts = [t.get_text() for t in ax.texts]
    assert "0.4 s\n144 samples" in texts and "0.5 s\n180 samples" in texts
    assert ax.get_xlabel() == "time (s)"


def test_plot_beat_windows_marks_only_peaks_in_the_stretch():
    x = np.sin(np.arange(3600) / 50)
    ax = ecgtut.plot_beat_windows(x, 360, np.array([100, 500, 3000]), duration=2)
    peaks = ax.lines[1]
    assert np.allclose(peaks.get_xdata(), np.array([100, 500]) / 360)
    assert not ax.patches


def test_plot_beat_versions_time_axis_and_sample_axis():
    x324 = np.sin(np.linspace(0, 3, 324))
    x251 = np.sin(np.linspace(0, 3, 251))
    ax = ecgtut.plot_beat_versions({"a": x324, "b": x251}, before=0.4, after=0.5)
    t_a, t_b = ax.lines[0].get_xdata(), ax.lines[1].get_xdata()
    assert t_a[0] == t_b[0] == pytest.approx(-0.4)
    assert t_a[1] == pytest.approx(1 / 360 - 0.4) and t_b[1] == pytest.approx(0.9 / 251 - 0.4)
    assert ax.get_legend_handles_labels()[1] == ["a (324 samples)", "b (251 samples)"]
    ax = ecgtut.plot_beat_versions({"a": x251})
    assert np.array_equal(ax.lines[0].get_xdata(), np.arange(251))
    assert ax.get_xlabel() == "sample of the input"


def test_plot_beat_matrix_rows_and_class_strip():
    X = np.random.default_rng(0).normal(size=(20, 251))
    aami = np.array(list("NV") * 10)
    ax = ecgtut.plot_beat_matrix(X, aami)
    (im,) = ax.images
    assert im.get_array().shape == (20, 251)
    assert len(ax.patches) == 20  # one strip cell per beat
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["N", "V"]
    assert ax.get_xlim()[1] == pytest.approx(0.5) and ax.get_xlim()[0] < -0.4
    assert ecgtut.plot_beat_matrix(X).get_legend() is None


def test_plot_class_by_record_counts_and_groups():
    record = np.array(["100", "100", "101", "102", "102", "102"])
    aami = np.array(["S", "V", "S", "S", "S", "N"])
    axes = ecgtut.plot_class_by_record(record, aami, groups={"A": ["101", "102"], "B": ["100"]})
    assert len(axes) == 2
    assert [p.get_height() for p in axes[0].patches] == [1, 2, 1]  # S in 101, 102, 100
    assert [p.get_height() for p in axes[1].patches] == [0, 0, 1]  # V
    assert axes[0].get_title() == "S beats per record (4 in all)"
    assert [t.get_text() for t in axes[0].texts] == ["A: 3", "B: 1"]
    assert [t.get_text() for t in axes[-1].get_xticklabels()] == ["101", "102", "100"]
    axes = ecgtut.plot_class_by_record(record, aami, classes=("N",))
    assert [p.get_height() for p in axes[0].patches] == [0, 0, 1] and not axes[0].texts


def test_plot_class_by_record_on_the_beat_set(beats):
    axes = ecgtut.plot_class_by_record(beats.record, beats.aami,
                                       groups={"DS1": ecgtut.DS1, "DS2": ecgtut.DS2})
    heights = [p.get_height() for p in axes[0].patches]
    assert len(heights) == 44 and sum(heights) == beats.counts()["S"]
    assert max(heights) == np.sum((beats.record == "232") & (beats.aami == "S"))
