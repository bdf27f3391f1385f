"""The base of every /v2/ view: spec headers, and registry errors rendered as the spec's envelope."""

from __future__ import annotations

import json
import logging

from django.http import HttpResponse, JsonResponse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from repos import errors
from repos.registry import auth

logger = logging.getLogger(__name__)
API_VERSION_HEADER = ("Docker-Distribution-Api-Version", "registry/2.0")


def error_response(exc: errors.RegistryError, *, head: bool = False) -> HttpResponse:
    body = b"" if head else json.dumps({"errors": [exc.as_dict()]}).encode()
    response = HttpResponse(body, status=exc.status, content_type="application/json")
    if head:
        response.headers["Content-Length"] = "0"
    for name, value in exc.headers.items():
        response.headers[name] = value
    return response


@method_decorator(csrf_exempt, name="dispatch")
class RegistryView(View):
    http_method_names = ["get", "head", "put", "post", "patch", "delete"]

    def dispatch(self, request, *args, **kwargs):
        try:
            response = super().dispatch(request, *args, **kwargs)
        except errors.RegistryError as exc:
            exc = auth.screen_error(request, exc)
            response = error_response(exc, head=request.method == "HEAD")
        response.headers[API_VERSION_HEADER[0]] = API_VERSION_HEADER[1]
        return response

    def http_method_not_allowed(self, request, *args, **kwargs):
        raise errors.Unsupported(f"{request.method} is not supported here")


def json_response(data: dict, *, status: int = 200, headers: dict | None = None) -> JsonResponse:
    response = JsonResponse(data, status=status)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


@method_decorator(csrf_exempt, name="dispatch")  # a write to an unknown path gets the envelope, not a CSRF page
class NotFoundView(RegistryView):
    def dispatch(self, request, *args, **kwargs):
        response = error_response(errors.NameUnknown("no such registry endpoint"), head=request.method == "HEAD")
        response.headers[API_VERSION_HEADER[0]] = API_VERSION_HEADER[1]
        return response
