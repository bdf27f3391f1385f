"""DRF authentication: `Authorization: Bearer <API token>` and Basic (password or API token).

The browser session is DRF's SessionAuthentication (which enforces CSRF). A request that presents
credentials that do not check out is refused with one message, whatever was wrong.
"""

from __future__ import annotations

from rest_framework import authentication, exceptions

from accounts.services.credentials import authenticate_secret, authenticate_token, parse_basic
from accounts.services.login_throttle import LoginThrottled

INVALID = "Invalid credentials."


class BearerApiTokenAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            return None
        user = authenticate_token(request._request, value.strip(), channel="api")
        if user is None:
            raise exceptions.AuthenticationFailed(INVALID)
        return user, user.acting_token

    def authenticate_header(self, request):
        # Not Basic: a browser would pop up its own login dialog on a 401 from a page's fetch.
        return 'Bearer realm="api"'


class BasicCredentialsAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        header = request.headers.get("Authorization", "")
        if header.partition(" ")[0].lower() != "basic":
            return None
        parsed = parse_basic(header)
        try:
            user = parsed and authenticate_secret(request._request, username=parsed[0], secret=parsed[1], channel="api")
        except LoginThrottled as exc:
            raise exceptions.Throttled(wait=exc.retry_after, detail="Too many failed logins.") from None
        if not user:
            raise exceptions.AuthenticationFailed(INVALID)
        return user, getattr(user, "acting_token", None)

    def authenticate_header(self, request):
        return 'Basic realm="api"'
