"""Figures of the course, one function per kind of figure.

Processing lives in the other modules; these functions only draw what those
return. Each takes ``ax=None`` (or ``axes=None``), creates a figure when none is
given, and returns the axes so a notebook can add to them or combine several
plots into one dashboard.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

__all__ = []

# --- model, training and evaluation plots (chapter 04-05) ---
