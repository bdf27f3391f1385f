"""403, 404 and 500 pages: in the site's layout for people, JSON for API clients.

Django calls these for errors raised outside DRF and the /v2/ views (those render their own envelopes);
an unknown /api/ or /v2/ path still answers JSON, so scripts never parse an HTML page.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.template import loader

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


def _render(request, status: int) -> HttpResponse:
    if _is_api(request):
        detail = {403: "You do not have permission to perform this action.", 404: "Not found.", 500: "Server error."}[
            status
        ]
        return JsonResponse({"detail": detail}, status=status)
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
    status, message, code = 400, "Bad request.", "UNSUPPORTED"
    if isinstance(exception, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        status, message, code = 413, f"The request body is larger than the limit of {limit} bytes.", "SIZE_INVALID"
    if request.path.startswith("/v2/"):
        response = JsonResponse({"errors": [{"code": code, "message": message, "detail": {}}]}, status=status)
        response.headers["Docker-Distribution-Api-Version"] = "registry/2.0"
        return response
    return JsonResponse({"detail": message}, status=status)
