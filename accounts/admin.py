"""Django admin for grants, API tokens and the audit log. Changes go through the services (audited)."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied

from accounts import errors
from accounts.models import ApiToken, AuditEvent, RepositoryGrant
from accounts.services import grants as grant_services
from accounts.services import tokens as token_services


@admin.register(RepositoryGrant)
class RepositoryGrantAdmin(admin.ModelAdmin):
    list_display = ["repository", "permission", "user", "team", "created"]
    list_filter = ["permission", "repository"]
    search_fields = ["repository__key", "user__username", "team__name"]
    fields = ["repository", "permission", "user", "team"]

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        try:
            created = grant_services.grant_create(
                actor=request.user,
                repository=obj.repository,
                permission=obj.permission,
                user=obj.user,
                team=obj.team,
                request=request,
            )
        except errors.AccountsError as exc:
            raise PermissionDenied(exc.message) from None
        obj.pk = created.pk

    def delete_model(self, request, obj):
        grant_services.grant_delete(actor=request.user, grant=obj, request=request)

    def delete_queryset(self, request, queryset):
        for grant in queryset:
            self.delete_model(request, grant)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "user", "created", "expires_at", "revoked_at", "last_used"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "prefix", "user__username"]
    readonly_fields = [
        "user",
        "name",
        "prefix",
        "permissions",
        "repositories",
        "created",
        "expires_at",
        "revoked_at",
        "last_used",
    ]
    exclude = ["secret_hash"]
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False  # created by their owner, who sees the secret once

    @admin.action(description="Revoke selected tokens")
    def revoke(self, request, queryset):
        for token in queryset.select_related("user"):
            token_services.token_revoke(actor=request.user, token=token, request=request)
        self.message_user(request, "Revoked.")


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["created", "action", "actor_name", "target", "ip_address"]
    list_filter = ["action"]
    search_fields = ["actor_name", "target"]
    date_hierarchy = "created"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
