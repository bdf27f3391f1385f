"""The REST API's one error envelope, and the DRF exception handler that answers every error in it.

    {"errors": [{"status": 409, "code": "PROMOTION_REFUSED", "message": "...", "detail": {...}}]}

`status` and `message` are Artifactory's error envelope (its promote endpoint is served as is);
`code` is stable for scripts; `detail` is the code's own data or null: for input errors (`INVALID`)
the map of field -> messages, for promotion refusals the `refusals` with their `rule`. Domain errors
(config/errors.py) carry their code and status; DRF's own errors get the codes below. `/v2/` keeps the
OCI envelope (repos/registry/views/base.py), which has no `status`.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from drf_spectacular import openapi
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import set_rollback

from config.errors import DomainError

_CODES: list[tuple[type[exceptions.APIException], str]] = [
    (exceptions.ValidationError, "INVALID"),
    (exceptions.ParseError, "INVALID_BODY"),
    (exceptions.NotAuthenticated, "UNAUTHORIZED"),
    (exceptions.AuthenticationFailed, "UNAUTHORIZED"),
    (exceptions.PermissionDenied, "DENIED"),
    (exceptions.NotFound, "NOT_FOUND"),
    (exceptions.MethodNotAllowed, "METHOD_NOT_ALLOWED"),
    (exceptions.NotAcceptable, "NOT_ACCEPTABLE"),
    (exceptions.UnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE"),
    (exceptions.Throttled, "TOOMANYREQUESTS"),
]


def error_body(*, status: int, code: str, message: str, detail: Any = None) -> dict:
    return {"errors": [{"status": status, "code": code, "message": message, "detail": detail}]}


def domain_error_body(exc: DomainError) -> dict:
    return error_body(status=exc.status, code=exc.code, message=exc.message, detail=exc.detail)


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    """REST_FRAMEWORK's EXCEPTION_HANDLER; None lets anything else surface as a 500."""
    if isinstance(exc, DomainError):
        set_rollback()
        return Response(domain_error_body(exc), status=exc.status, headers=exc.headers)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(*exc.args)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    if not isinstance(exc, exceptions.APIException):
        return None
    headers = {}
    if auth_header := getattr(exc, "auth_header", None):  # set by DRF on 401s
        headers["WWW-Authenticate"] = auth_header
    if wait := getattr(exc, "wait", None):  # Throttled: seconds until a retry may pass
        headers["Retry-After"] = "%d" % wait
    set_rollback()
    return Response(api_exception_body(exc), status=exc.status_code, headers=headers)


def api_exception_body(exc: exceptions.APIException) -> dict:
    code = next((code for cls, code in _CODES if isinstance(exc, cls)), str(exc.default_code).upper())
    if isinstance(exc, exceptions.ValidationError):
        fields = exc.detail if isinstance(exc.detail, dict) else {api_settings.NON_FIELD_ERRORS_KEY: exc.detail}
        message = "; ".join(_flatten(fields)) or "invalid input"
        return error_body(status=exc.status_code, code=code, message=message, detail=fields)
    return error_body(status=exc.status_code, code=code, message=str(exc.detail))


def _flatten(detail: Any, path: str = "") -> list[str]:
    """`field: message` lines of a (nested) DRF validation detail; list items are indexed (`tags.0`)."""
    if isinstance(detail, dict):
        return [line for key, value in detail.items() for line in _flatten(value, f"{path}.{key}" if path else key)]
    if isinstance(detail, list) and any(isinstance(item, (dict, list)) for item in detail):
        return [line for i, item in enumerate(detail) for line in _flatten(item, f"{path}.{i}" if path else str(i))]
    messages = detail if isinstance(detail, list) else [detail]
    text = " ".join(str(m) for m in messages)
    return [f"{path}: {text}" if path and path != api_settings.NON_FIELD_ERRORS_KEY else text] if text else []


class ErrorSerializer(serializers.Serializer):
    status = serializers.IntegerField(help_text="The HTTP status, repeated.")
    code = serializers.CharField(
        help_text="Stable machine code: INVALID, UNAUTHORIZED, DENIED, NOT_FOUND, METHOD_NOT_ALLOWED, "
        "TOOMANYREQUESTS, or the domain's own (PROMOTION_REFUSED, NOT_EMPTY, ...)."
    )
    message = serializers.CharField(help_text="For people.")
    detail = serializers.JSONField(
        allow_null=True,
        help_text="The code's own data, or null. INVALID: field name -> list of messages; "
        "PROMOTION_REFUSED: `refusals`, each with its `rule`, `message` and `detail`.",
    )


class ErrorEnvelopeSerializer(serializers.Serializer):
    errors = ErrorSerializer(many=True)  # type: ignore[assignment]  # a field named like Serializer.errors


def error_response(description: str) -> OpenApiResponse:
    """A documented error answer of one operation, in the envelope."""
    return OpenApiResponse(ErrorEnvelopeSerializer, description=description)


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's schema, with the error answers every operation can give, all in the envelope."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        implied = {"401": "Bad or missing credentials.", "403": "Signed in, but not allowed."}
        if self.method in ("POST", "PUT", "PATCH"):
            implied["400"] = "Invalid input; `detail` maps each field to its messages."
        if "{" in self.path:
            implied["404"] = "No such object, or not visible to the caller."
        for code, description in implied.items():
            responses.setdefault(code, {"description": description})
        for code, response in responses.items():
            if code >= "400" and "content" not in response:
                envelope = error_response(response.get("description") or "An error.")
                responses[code] = self._get_response_for_code(envelope, code, direction=direction)
        return dict(sorted(responses.items()))
