"""403, 404 and 500 pages: in the site's layout for people, JSON for API clients.

Django calls these for errors raised outside DRF and the /v2/ views (those render their own envelopes);
an unknown /api/ or /v2/ path still answers JSON, so scripts never parse an HTML page.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.template import loader

from config.api_errors import error_body

logger = logging.getLogger(__name__)

_API_PREFIXES = ("/api/", "/v2/", "/artifactory/")
_PAGES = {
    403: ("Not allowed", "Your account may not see or change this. Ask a repository admin for access."),
    404: (
        "Page not found",
        "There is nothing at this address. The repository, image or tag may have been "
        "deleted, renamed or promoted elsewhere, or it may not be visible to you.",
    ),
    500: ("Something went wrong on our side", "The error was logged. Try again in a moment."),
}


def _is_api(request) -> bool:
    return request.path.startswith(_API_PREFIXES)


# status -> (REST code, OCI code, message)
_API_ERRORS = {
    403: ("DENIED", "DENIED", "You do not have permission to perform this action."),
    404: ("NOT_FOUND", "NAME_UNKNOWN", "Not found."),
    500: ("INTERNAL_ERROR", "UNKNOWN", "Server error."),
}


def _api_error(request, *, status: int, code: str, message: str) -> JsonResponse:
    """The REST envelope (config/api_errors.py); under /v2/ the spec's, which has no status."""
    if request.path.startswith("/v2/"):
        response = JsonResponse({"errors": [{"code": code, "message": message, "detail": {}}]}, status=status)
        response.headers["Docker-Distribution-Api-Version"] = "registry/2.0"
        return response
    return JsonResponse(error_body(status=status, code=code, message=message), status=status)


def _render(request, status: int) -> HttpResponse:
    if _is_api(request):
        rest_code, oci_code, message = _API_ERRORS[status]
        code = oci_code if request.path.startswith("/v2/") else rest_code
        return _api_error(request, status=status, code=code, message=message)
    heading, message = _PAGES[status]
    context = {"code": status, "heading": heading, "message": message}
    return HttpResponse(loader.render_to_string(f"{status}.html", context, request), status=status)


def page_not_found(request, exception=None):
    return _render(request, 404)


def permission_denied(request, exception=None):
    return _render(request, 403)


def server_error(request):
    try:
        return _render(request, 500)
    except Exception:  # the layout itself failed (database down, ...): a page that needs nothing
        logger.exception("the 500 page could not be rendered in the site's layout")
        return HttpResponse(loader.render_to_string("errors/500_plain.html"), status=500)


def bad_request(request, exception=None):
    """A body over DATA_UPLOAD_MAX_MEMORY_SIZE (413) or another request Django refuses before any view (400):
    JSON for API clients, the spec's envelope under /v2/, Django's page for people."""
    from django.core.exceptions import RequestDataTooBig
    from django.views import defaults

    if not _is_api(request):
        return defaults.bad_request(request, exception)
    oci = request.path.startswith("/v2/")
    status, message, code = 400, "Bad request.", "UNSUPPORTED" if oci else "INVALID"
    if isinstance(exception, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        message = f"The request body is larger than the limit of {limit} bytes."
        status, code = 413, "SIZE_INVALID" if oci else "TOO_LARGE"
    return _api_error(request, status=status, code=code, message=message)
