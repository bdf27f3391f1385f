"""`/v2/token`: the token endpoint of the Docker registry token flow.

GET with optional Basic credentials (a password or an API token) and `scope` parameters; POST with
an OAuth2 password grant for clients that use it. Anonymous callers get a token for what anonymous
may do (pull public repositories). The answer grants the intersection of asked and held.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.http import JsonResponse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from accounts.models import AuditEvent
from accounts.services.audit import audit_record
from accounts.services.credentials import authenticate_secret, parse_basic
from accounts.services.login_throttle import LoginThrottled
from repos.registry import tokens as registry_tokens
from repos.registry.scopes import granted_access, parse_scopes


def _error(status: int, code: str, message: str) -> JsonResponse:
    response = JsonResponse({"errors": [{"code": code, "message": message, "detail": None}]}, status=status)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Basic realm="registry token"'
    return response


@method_decorator(csrf_exempt, name="dispatch")
class RegistryTokenView(View):
    http_method_names = ["get", "post"]

    def get(self, request):
        header = request.headers.get("Authorization", "")
        credentials = parse_basic(header) if header else None
        if header and credentials is None:
            return _error(401, "UNAUTHORIZED", "invalid credentials")
        return self._issue(request, credentials, request.GET.getlist("scope"), request.GET.get("service", ""))

    def post(self, request):
        if request.POST.get("grant_type") != "password":
            return JsonResponse({"error": "unsupported_grant_type"}, status=400)
        credentials = (request.POST.get("username", ""), request.POST.get("password", ""))
        return self._issue(request, credentials, request.POST.getlist("scope"), request.POST.get("service", ""))

    def _issue(self, request, credentials, scope_values: list[str], service: str):
        if service and service != registry_tokens.service_name():
            return _error(400, "UNSUPPORTED", "unknown service")
        user = None
        if credentials is not None:
            try:
                user = authenticate_secret(request, username=credentials[0], secret=credentials[1], channel="registry")
            except LoginThrottled as exc:
                response = _error(429, "TOOMANYREQUESTS", str(exc))
                response.headers["Retry-After"] = str(exc.retry_after)
                return response
            if not user:
                return _error(401, "UNAUTHORIZED", "invalid credentials")
        scopes = parse_scopes(scope_values)
        access = granted_access(user, scopes)
        token = getattr(user, "acting_token", None)
        jwt, expires_in, issued_at = registry_tokens.token_issue(
            subject=user.get_username() if user else "", access=access, api_token_id=token.pk if token else None
        )
        if user is not None and not scopes:
            audit_record(
                action=AuditEvent.Action.REGISTRY_LOGIN,
                actor=user,
                request=request,
                detail={"via": "api_token" if token else "password", **({"token": token.prefix} if token else {})},
            )
        body = {
            "token": jwt,
            "access_token": jwt,
            "expires_in": expires_in,
            "issued_at": datetime.fromtimestamp(issued_at, tz=UTC).isoformat().replace("+00:00", "Z"),
        }
        response = JsonResponse(body)
        response.headers["Cache-Control"] = "no-store"
        return response
