"""Optional API keys for the service's ``/v1/*`` paths.

Keys come from a file (``serve --api-key-file``, one key a line; blank lines
and lines starting with ``#`` are skipped) and from the environment variable
``SOC_ANOMALY_API_KEY`` (one key, the key itself). A client sends one as
``Authorization: Bearer KEY`` or ``X-API-Key: KEY``; every key is compared in
constant time (:func:`hmac.compare_digest`), so the time an answer takes does
not tell how much of a guess was right. ``/healthz`` and the docs stay open.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from soc_anomaly.errors import ParameterError

__all__ = [
    "API_KEY_ENV",
    "MIN_KEY_LENGTH",
    "presented_keys",
    "read_api_keys",
    "security_schemes",
    "valid_key",
]

#: The environment variable holding one API key.
API_KEY_ENV = "SOC_ANOMALY_API_KEY"
#: Fewest characters in a key (``openssl rand -hex 16`` makes 32).
MIN_KEY_LENGTH = 16
#: A key file bigger than this is not a key file.
_MAX_FILE_BYTES = 1_000_000


def _check_key(key: str, where: str) -> bytes:
    if not all("!" <= c <= "~" for c in key):
        raise ParameterError(
            f"{where}: an API key holds a space, a control or a non-ASCII character; expected "
            "printable ASCII (it travels in an HTTP header)"
        )
    if len(key) < MIN_KEY_LENGTH:
        raise ParameterError(
            f"{where}: an API key has {len(key)} characters; expected at least {MIN_KEY_LENGTH} "
            "(e.g. openssl rand -hex 16)"
        )
    return key.encode("ascii")


def read_api_keys(
    path: str | Path | None = None, environ: Mapping[str, str] | None = None
) -> tuple[bytes, ...]:
    """The API keys the service accepts: those of ``path`` and of ``SOC_ANOMALY_API_KEY``.

    Parameters
    ----------
    path : str or pathlib.Path, optional
        A text file with one key a line.
    environ : mapping, optional
        Where to look up ``SOC_ANOMALY_API_KEY``; :data:`os.environ` by default.

    Returns
    -------
    tuple of bytes
        The keys; empty when neither a file nor the variable is given (no
        authentication).

    Raises
    ------
    soc_anomaly.errors.ParameterError
        If the file cannot be read or holds no key, the variable is set but
        empty, or a key is shorter than 16 characters or not printable ASCII.
    """
    environ = os.environ if environ is None else environ
    keys: list[bytes] = []
    if path is not None:
        where = f"--api-key-file {str(path)!r}"
        try:
            with open(path, "rb") as handle:
                raw = handle.read(_MAX_FILE_BYTES + 1)
        except OSError as exc:
            raise ParameterError(f"{where} cannot be read: {exc.strerror or exc}") from None
        if len(raw) > _MAX_FILE_BYTES:
            raise ParameterError(f"{where} is over {_MAX_FILE_BYTES:,} bytes; expected keys")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ParameterError(f"{where} is not UTF-8 text; expected one key a line") from None
        lines = (line.strip() for line in text.splitlines())
        keys += [_check_key(k, where) for k in lines if k and not k.startswith("#")]
        if not keys:
            raise ParameterError(f"{where} holds no key; expected one key a line")
    if API_KEY_ENV in environ:
        value = environ[API_KEY_ENV].strip()
        if not value:
            raise ParameterError(f"{API_KEY_ENV} is set but empty; expected an API key or unset")
        keys.append(_check_key(value, API_KEY_ENV))
    return tuple(dict.fromkeys(keys))


def presented_keys(headers: Iterable[tuple[bytes, bytes]]) -> list[bytes]:
    """The keys a request carries: ``Authorization: Bearer KEY`` and ``X-API-Key: KEY``."""
    found = []
    for name, value in headers:
        if name == b"x-api-key":
            found.append(value.strip())
        elif name == b"authorization":
            scheme, _, token = value.strip().partition(b" ")
            if scheme.lower() == b"bearer":
                found.append(token.strip())
    return found


def valid_key(presented: Sequence[bytes], keys: Sequence[bytes]) -> bool:
    """Whether one presented key is one of ``keys``, every pair compared in constant time."""
    ok = False
    for candidate in presented:
        for key in keys:
            # No early exit: the time taken does not depend on which key matched.
            ok |= hmac.compare_digest(candidate, key)
    return ok


def security_schemes() -> dict[str, Any]:
    """The OpenAPI ``securitySchemes`` of the two ways to send a key."""
    return {
        "bearer": {
            "type": "http",
            "scheme": "bearer",
            "description": "Authorization: Bearer KEY",
        },
        "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
    }
