"""Response headers every dashboard page carries."""

from django.utils.cache import patch_cache_control

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response


class PrivateNoStoreMiddleware:
    """What a signed-in caller sees is theirs: no shared cache (or the browser's back button after sign-out)
    may keep it. /v2/ is left alone: its content is addressed by digest and said so by its own headers."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not request.path.startswith("/v2/"):
            patch_cache_control(response, private=True, no_store=True)
        return response
