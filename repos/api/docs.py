"""The API's browsable docs (Swagger UI, Redoc), served from the sidecar package: nothing from a CDN.

Both UIs set inline styles, so these two pages alone allow them; scripts stay 'self' only.
"""

from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView

from config.middleware import CONTENT_SECURITY_POLICY

DOCS_CSP = (
    CONTENT_SECURITY_POLICY.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
    + "; worker-src 'self' blob:"
)


class _DocsPolicy:
    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response.headers["Content-Security-Policy"] = DOCS_CSP
        return response


class SwaggerView(_DocsPolicy, SpectacularSwaggerSplitView):
    pass


class RedocView(_DocsPolicy, SpectacularRedocView):
    pass
