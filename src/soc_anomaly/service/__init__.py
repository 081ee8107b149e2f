"""The REST scoring service (the ``[service]`` extra: FastAPI and uvicorn).

Importing this package imports FastAPI; the rest of soc-anomaly never does, so
it works without the extra. Start the service with ``soc-anomaly serve``.
"""

from soc_anomaly.service.app import DEFAULT_MAX_BYTES, DEFAULT_MAX_EVENTS, create_app

__all__ = ["DEFAULT_MAX_BYTES", "DEFAULT_MAX_EVENTS", "create_app"]
