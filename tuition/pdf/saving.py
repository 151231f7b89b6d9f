"""Saving a reportlab canvas the fast way, for every PDF drawn with reportlab's ``Canvas``."""

from __future__ import annotations

from reportlab import rl_config
from reportlab.pdfgen.canvas import Canvas


def save(canvas: Canvas) -> None:
    """``canvas.save()`` with binary Flate streams instead of reportlab's pure-Python ASCII85
    wrapping, which is much of the time of ``save``; the switch is global, so it is restored."""
    use_a85 = rl_config.useA85
    rl_config.useA85 = 0
    try:
        canvas.save()
    finally:
        rl_config.useA85 = use_a85
