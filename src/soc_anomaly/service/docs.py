"""The service's FastAPI object: interactive docs served offline, API keys declared.

FastAPI's ``/docs`` and ``/redoc`` load Swagger UI and ReDoc from a CDN (a
floating version, no integrity hash) and are blank without the internet.
``fastapi-offline`` ships those files in its wheel (Swagger UI 5, ReDoc 2) and
serves them from ``/static-offline-docs``, so every page the service serves
loads from the service itself. Swagger UI's validator badge, which would call
an outside validator, is turned off.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from soc_anomaly.service.auth import security_schemes
from soc_anomaly.service.schemas import Detail

__all__ = ["service_app"]


def service_app(*, secured: bool, **kwargs: Any) -> FastAPI:
    """A FastAPI app whose docs load offline, and whose ``/v1/*`` need a key when ``secured``.

    Parameters
    ----------
    secured : bool
        Whether API keys are required: the OpenAPI schema then declares the
        two ways to send one and a 401 on every ``/v1/*`` operation.
    **kwargs
        Passed to :class:`fastapi.FastAPI` (title, version, description).

    Returns
    -------
    fastapi.FastAPI
    """
    app = FastAPIOffline(swagger_ui_parameters={"validatorUrl": None}, **kwargs)
    if secured:
        app.openapi = _with_security(app.openapi)  # type: ignore[method-assign]
    return app


def _with_security(base: Callable[[], dict[str, Any]]) -> Callable[[], dict[str, Any]]:
    """FastAPI's schema builder, with the API key schemes added to the ``/v1/*`` operations."""
    done: list[dict[str, Any]] = []

    def openapi() -> dict[str, Any]:
        if done:
            return done[0]
        schema = base()  # built once and cached by FastAPI; completed here once
        schema.setdefault("components", {})["securitySchemes"] = security_schemes()
        schema["components"].setdefault("schemas", {}).setdefault(
            "Detail", Detail.model_json_schema()
        )
        unauthorized = {
            "description": "No API key, or one that is not valid.",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Detail"}}},
        }
        for path, operations in schema.get("paths", {}).items():
            if path.startswith("/v1/"):
                for operation in operations.values():
                    operation["security"] = [{"bearer": []}, {"apiKey": []}]
                    operation.setdefault("responses", {})["401"] = unauthorized
        done.append(schema)
        return schema

    return openapi
