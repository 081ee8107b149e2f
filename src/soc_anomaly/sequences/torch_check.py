"""Whether PyTorch is installed, and the one line saying how to install it.

Kept apart from :mod:`soc_anomaly.sequences.lstm_train` so that the command line
can check for it before importing numpy or anything heavy.
"""

from __future__ import annotations

import importlib.util

from soc_anomaly.errors import ParameterError

__all__ = ["require_torch", "torch_available"]

_INSTALL_HINT = (
    "the lstm detector needs PyTorch, an optional extra: pip install 'soc-anomaly[deep]' "
    "(for a CPU-only build see the installation page of the docs)"
)


def torch_available() -> bool:
    """Whether PyTorch is installed (looked up without importing it)."""
    return importlib.util.find_spec("torch") is not None


def require_torch() -> None:
    """Raise a one-line :class:`~soc_anomaly.errors.ParameterError` when PyTorch is absent."""
    if not torch_available():
        raise ParameterError(_INSTALL_HINT)
