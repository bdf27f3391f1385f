from django.urls import path

from accounts.views import pages

urlpatterns = [
    path("login/", pages.ThrottledLoginView.as_view(), name="login"),
    path("password_reset/", pages.PublicPasswordResetView.as_view(), name="password_reset"),
    path("tokens/", pages.tokens, name="accounts-tokens"),
    path("tokens/<int:pk>/revoke/", pages.token_revoke, name="accounts-token-revoke"),
    path("audit/", pages.audit_log, name="accounts-audit"),
]
