"""Optional signing of model bundles with HMAC-SHA256.

The SHA-256 in a bundle's manifest proves that ``model.skops`` was not altered
after the manifest was written, but anyone who can write the bundle can write
both. A signature proves origin: whoever holds the key wrote the manifest.

``manifest.sig`` (beside ``manifest.json``) holds one line,
``hmac-sha256:<64 hex digits>``, the HMAC-SHA256 of the manifest's exact bytes
under the key. The manifest names the model file's SHA-256, so the signature
covers the model, its threshold, features and detector too.

The key is at least :data:`MIN_KEY_BYTES` bytes: the content of a key file
(``--signing-key-file``; one trailing line break is ignored) or the value of
the environment variable :data:`ENV_VAR` (the key itself, UTF-8). A file
given on the command line wins over the variable.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping
from pathlib import Path

from soc_anomaly.errors import ModelError, ParameterError

__all__ = [
    "ENV_VAR",
    "MIN_KEY_BYTES",
    "SIGNATURE_FILE",
    "as_key",
    "read_key_file",
    "resolve_key",
    "signature",
    "verify",
]

SIGNATURE_FILE = "manifest.sig"
ENV_VAR = "SOC_ANOMALY_SIGNING_KEY"
#: Shortest key accepted: 256 bits, the output size of SHA-256.
MIN_KEY_BYTES = 32
#: Largest key file read (a key is a few dozen bytes; this is not a key file).
MAX_KEY_FILE_BYTES = 4096
_PREFIX = "hmac-sha256:"


def as_key(key: bytes | str, source: str = "the signing key") -> bytes:
    """``key`` as bytes, refused if shorter than :data:`MIN_KEY_BYTES`.

    Raises
    ------
    soc_anomaly.errors.ParameterError
        On a key that is too short.
    """
    raw = key.encode("utf-8") if isinstance(key, str) else bytes(key)
    if len(raw) < MIN_KEY_BYTES:
        raise ParameterError(
            f"{source} is {len(raw)} bytes; expected at least {MIN_KEY_BYTES} (e.g. the "
            "output of: openssl rand -hex 32)"
        )
    return raw


def read_key_file(path: str | Path) -> bytes:
    """The key in a file: its bytes without one trailing line break."""
    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"--signing-key-file {path} is not a file; expected a key file")
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_KEY_FILE_BYTES + 1)
    except OSError as exc:
        raise ParameterError(f"--signing-key-file {path} cannot be read: {exc.strerror}") from None
    if len(raw) > MAX_KEY_FILE_BYTES:
        raise ParameterError(
            f"--signing-key-file {path} is over {MAX_KEY_FILE_BYTES} bytes; expected a key"
        )
    for ending in (b"\r\n", b"\n"):
        if raw.endswith(ending):
            raw = raw[: -len(ending)]
            break
    return as_key(raw, f"--signing-key-file {path}")


def resolve_key(
    key_file: str | Path | None, environ: Mapping[str, str] | None = None
) -> bytes | None:
    """The key of a command: ``key_file``'s, else :data:`ENV_VAR`'s, else None.

    A variable that is set but empty is refused (too short), not read as "no key":
    someone who set it meant to sign or verify.
    """
    if key_file is not None:
        return read_key_file(key_file)
    value = (os.environ if environ is None else environ).get(ENV_VAR)
    return None if value is None else as_key(value, ENV_VAR)


def signature(manifest_bytes: bytes, key: bytes) -> str:
    """The content of ``manifest.sig`` for these manifest bytes."""
    return _PREFIX + hmac.new(key, manifest_bytes, hashlib.sha256).hexdigest() + "\n"


def verify(directory: Path, manifest_bytes: bytes, key: bytes) -> None:
    """Refuse a bundle without a signature of ``manifest_bytes`` under ``key``.

    Raises
    ------
    soc_anomaly.errors.ModelError
        If ``manifest.sig`` is missing, unreadable, or not the manifest's signature.
    """
    path = Path(directory) / SIGNATURE_FILE
    if not path.is_file():
        raise ModelError(
            f"{directory} is not signed (no {SIGNATURE_FILE}); a signing key was given, so "
            "only a bundle signed with it is loaded"
        )
    try:
        with open(path, "rb") as f:
            found = f.read(256).strip()
    except OSError as exc:
        raise ModelError(f"{path} cannot be read: {exc.strerror}") from None
    expected = signature(manifest_bytes, key).strip().encode("ascii")
    if not hmac.compare_digest(found, expected):
        raise ModelError(
            f"{path} is not a valid signature of {directory}'s manifest under this key; the "
            "bundle was altered or signed with another key, refusing to load it"
        )
