"""Where console reports print: results on stdout, as wide as the terminal.

In a terminal the report takes its width (tables that do not fit are split,
see :mod:`soc_anomaly.reporting.tables`); piped or redirected, it takes
``COLUMNS`` when set and 80 columns otherwise, so a log reads like a terminal.
Lines of text are not wrapped by the console (``soft_wrap``): a path or a
command must stay whole to be copied; reports wrap their prose themselves.
"""

from __future__ import annotations

from rich.console import Console

__all__ = ["out"]

#: Results (summary, tables, explanations).
out = Console(soft_wrap=True, highlight=False)
