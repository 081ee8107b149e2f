"""Where console reports print: results on stdout, wide enough not to wrap in logs."""

from __future__ import annotations

from rich.console import Console

__all__ = ["out"]

#: Results (tables, explanations). Wide enough that tables do not wrap in logs.
out = Console(soft_wrap=False, width=None, highlight=False)
if not out.is_terminal:
    out = Console(soft_wrap=False, width=200, highlight=False)
