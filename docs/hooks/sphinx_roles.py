"""MkDocs hook: Sphinx cross-reference roles in docstrings become links.

The package's numpydoc docstrings use Sphinx roles (``:class:`~a.b.C```), which
mkdocstrings renders as text (``:class:`` followed by code). This hook turns
each into an optional autorefs cross-reference: a link when the object has an
API page, plain code otherwise (optional references never warn, so the strict
build stays strict about everything else).
"""

from __future__ import annotations

import re
from typing import Any

_ROLE = re.compile(
    r":(?:py:)?(?:class|func|meth|data|mod|attr|exc|obj|const):"
    r"<code>(?P<tilde>~)?(?P<target>[\w.]+)(?:\(\))?</code>"
)


def _link(match: re.Match[str]) -> str:
    target = match["target"].lstrip(".")
    shown = target.rsplit(".", 1)[-1] if match["tilde"] else target
    if "." not in target:
        return f"<code>{shown}</code>"
    return f'<autoref optional identifier="{target}"><code>{shown}</code></autoref>'


def on_page_content(html: str, **kwargs: Any) -> str:
    """Rewrite the roles of one page's HTML before autorefs resolves references."""
    return _ROLE.sub(_link, html)
