"""Render every error in the shape of the API family that was called, in one place.

Native routes answer `{"error": "..."}`; `/v1/messages` answers Anthropic's
`{"type": "error", "error": {...}}`; other `/v1/` routes answer OpenAI's
`{"error": {"message", "type", "param", "code"}}`; `/v2/`, the registry API served to peers,
answers the OCI distribution spec's `{"errors": [{"code", "message"}]}`.
"""

from __future__ import annotations

import json
import logging
import secrets
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from pollama.api.schemas.base import REFUSED
from pollama.errors import DistributionError, PollamaError

log = logging.getLogger(__name__)

_OPENAI_TYPES = {
    400: "invalid_request_error",
    404: "not_found_error",
    413: "invalid_request_error",
    503: "api_error",
}
_ANTHROPIC_TYPES = {
    400: "invalid_request_error",
    404: "not_found_error",
    413: "request_too_large",
    503: "overloaded_error",
}


def error_body(
    path: str, status: int, message: str, code: str = "UNKNOWN", param: str | None = None
) -> dict[str, Any]:
    """The JSON body for an error on `path` (`code`: the OCI error code, for `/v2/` only;
    `param`: the request field pollama cannot honour, for OpenAI's `param`)."""
    if path.startswith("/v2/"):
        return {"errors": [{"code": code, "message": message}]}
    if path.startswith("/v1/messages"):
        kind = _ANTHROPIC_TYPES.get(status, "api_error")
        error = {"type": kind, "message": message}
        return {"type": "error", "error": error, "request_id": f"req_{secrets.token_hex(12)}"}
    if path.startswith("/v1/"):
        kind = _OPENAI_TYPES.get(status, "api_error")
        code_ = "unsupported_parameter" if param else None
        return {"error": {"message": message, "type": kind, "param": param, "code": code_}}
    return {"error": message}


def error_response(
    request: Request, status: int, message: str, code: str = "UNKNOWN", param: str | None = None
) -> JSONResponse:
    body = error_body(request.url.path, status, message, code, param)
    return JSONResponse(body, status_code=status)


def _field(exc: RequestValidationError) -> str | None:
    """The path of the field a request may not set as it did (see `schemas.base.refused`)."""
    first = next(iter(exc.errors()), None)
    if first is None or first.get("type") != REFUSED:
        return None
    return ".".join(str(p) for p in first.get("loc", ()) if p != "body")


def _validation_message(exc: RequestValidationError) -> str:
    """Ollama answers bad bodies with the decoder's words; ours name the field at fault."""
    errors = exc.errors()
    if not errors:
        return "invalid request"
    first = errors[0]
    if first.get("type") == "json_invalid":
        return f"invalid JSON: {first.get('ctx', {}).get('error', 'malformed body')}"
    if first.get("type") == "missing" and tuple(first.get("loc", ())) == ("body",):
        return "missing request body"
    loc = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
    return f"{loc}: {first.get('msg')}" if loc else str(first.get("msg"))


def install_error_handlers(app: FastAPI) -> None:
    """Map pollama errors and FastAPI's validation errors to bodies and statuses."""

    @app.exception_handler(PollamaError)
    async def _pollama_error(request: Request, exc: PollamaError) -> JSONResponse:
        code = exc.code if isinstance(exc, DistributionError) else "UNKNOWN"
        return error_response(request, exc.status_code, exc.message, code)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(request, 400, _validation_message(exc), param=_field(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _routing_error(request: Request, exc: StarletteHTTPException) -> Response:
        """No such route or method: gin's plain-text answers, which Ollama gives."""
        texts = {404: "404 page not found", 405: "405 method not allowed"}
        if exc.status_code in texts:
            return PlainTextResponse(texts[exc.status_code], status_code=exc.status_code)
        return error_response(request, exc.status_code, str(exc.detail))

    @app.exception_handler(json.JSONDecodeError)
    async def _json_error(request: Request, exc: json.JSONDecodeError) -> JSONResponse:
        return error_response(request, 400, f"invalid JSON: {exc.msg}")
