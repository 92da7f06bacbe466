"""Figures of the course, one function per kind of figure, one module per course stage.

The figure of a stage function ``et.X`` lives in ``plots/<stage of X>.py``::

    chapter 01     plots.data      plot_record, plot_class_counts
    chapter 02     plots.denoise   plot_wavelet_bands, plot_denoising, plot_spectrum,
                                   plot_wavelet, plot_frequency_response
    chapter 03     plots.beats     plot_beat_anatomy, plot_beats, plot_class_means,
                                   plot_beat_windows, plot_beat_versions,
                                   plot_beat_matrix, plot_class_by_record
    chapter 05     plots.model     plot_model_diagram, plot_receptive_fields,
                                   plot_normalized_beats, plot_augmented_beats
                   plots.train     plot_split_counts, plot_lr_schedule, plot_learning_curves
    chapter 05-06  plots.metrics   plot_confusion, plot_misclassified, plot_confidence
    chapter 06     plots.crossval  plot_kfold_scheme, plot_fold_class_shares, plot_fold_scores
                   plots.pitfalls  plot_selection_pitfall, plot_selection_optimism,
                                   plot_same_record_neighbours
    chapter 07     plots.patients  plot_ds1_settings, plot_s_threshold, plot_intra_vs_inter,
                                   plot_per_record, plot_anchor_comparison, plot_decision_grid,
                                   plot_bootstrap, plot_relative_beats
                   plots.features  plot_rr_tachogram, plot_rr_scatter
    chapter 08     plots.detect    plot_detector_stages, plot_detection_errors
                   plots.classify  plot_classified

Processing lives in the stage modules; these functions only arrange and draw
what those return. They all follow one convention:

- the data come first, as positional arguments; every option is keyword-only;
- ``ax=None`` (one panel) or ``axes=None`` (several panels): where to draw,
  a new figure when None;
- ``title=None``: the axes title of a one-panel figure, the figure's title
  (``suptitle``) of a multi-panel one; None keeps the figure's usual title;
- a one-panel plotter returns its ``matplotlib.axes.Axes``, a multi-panel
  plotter a 1-D ``numpy.ndarray`` of Axes, whatever shape of ``axes`` it was given;
- beat time axes come from the :class:`ecgtut.BeatWindow` the beats were cut
  with (``window=DEFAULT_WINDOW``), and signals are drawn in mV.

Everything is re-exported here (and flat in ``ecgtut``), so a notebook can
combine several figures into one::

    >>> import matplotlib.pyplot as plt
    >>> fig, axes = plt.subplots(1, 2, figsize=(9, 3), layout="constrained")
    >>> ax = plot_class_counts({"N": 900, "V": 70}, ax=axes[0], title="a")
    >>> ax = plot_selection_optimism({"x": [0.0, 0.01]}, ax=axes[1], title="b")
    >>> [ax.get_title() for ax in axes]
    ['a', 'b']
"""

from ecgtut.plots._common import CLASS_COLORS
from ecgtut.plots.beats import (
    plot_beat_anatomy,
    plot_beat_matrix,
    plot_beat_versions,
    plot_beat_windows,
    plot_beats,
    plot_class_by_record,
    plot_class_means,
)
from ecgtut.plots.classify import plot_classified
from ecgtut.plots.crossval import plot_fold_class_shares, plot_fold_scores, plot_kfold_scheme
from ecgtut.plots.data import plot_class_counts, plot_record
from ecgtut.plots.denoise import (
    plot_denoising,
    plot_frequency_response,
    plot_spectrum,
    plot_wavelet,
    plot_wavelet_bands,
)
from ecgtut.plots.detect import plot_detection_errors, plot_detector_stages
from ecgtut.plots.features import plot_rr_scatter, plot_rr_tachogram
from ecgtut.plots.metrics import plot_confidence, plot_confusion, plot_misclassified
from ecgtut.plots.model import (
    plot_augmented_beats,
    plot_model_diagram,
    plot_normalized_beats,
    plot_receptive_fields,
)
from ecgtut.plots.patients import (
    plot_anchor_comparison,
    plot_bootstrap,
    plot_decision_grid,
    plot_ds1_settings,
    plot_intra_vs_inter,
    plot_per_record,
    plot_relative_beats,
    plot_s_threshold,
)
from ecgtut.plots.pitfalls import (
    plot_same_record_neighbours,
    plot_selection_optimism,
    plot_selection_pitfall,
)
from ecgtut.plots.train import plot_learning_curves, plot_lr_schedule, plot_split_counts

__all__ = [
    "CLASS_COLORS",
    # chapter 01
    "plot_record",
    "plot_class_counts",
    # chapter 02
    "plot_wavelet_bands",
    "plot_denoising",
    "plot_spectrum",
    "plot_wavelet",
    "plot_frequency_response",
    # chapter 03
    "plot_beat_anatomy",
    "plot_beats",
    "plot_class_means",
    "plot_beat_windows",
    "plot_beat_versions",
    "plot_beat_matrix",
    "plot_class_by_record",
    # chapter 05
    "plot_model_diagram",
    "plot_receptive_fields",
    "plot_normalized_beats",
    "plot_augmented_beats",
    "plot_split_counts",
    "plot_lr_schedule",
    "plot_learning_curves",
    # chapters 05-06
    "plot_confusion",
    "plot_misclassified",
    "plot_confidence",
    # chapter 06
    "plot_kfold_scheme",
    "plot_fold_class_shares",
    "plot_fold_scores",
    "plot_selection_pitfall",
    "plot_selection_optimism",
    "plot_same_record_neighbours",
    # chapter 07
    "plot_ds1_settings",
    "plot_s_threshold",
    "plot_intra_vs_inter",
    "plot_per_record",
    "plot_anchor_comparison",
    "plot_decision_grid",
    "plot_bootstrap",
    "plot_relative_beats",
    "plot_rr_tachogram",
    "plot_rr_scatter",
    # chapter 08
    "plot_detector_stages",
    "plot_detection_errors",
    "plot_classified",
]
