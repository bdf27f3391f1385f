"""Who may do what: per-repository grants, API tokens and the security audit log.

Teams are Django's auth groups, so the admin, `user.groups` and group membership work as usual.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Permission(models.TextChoices):
    READ = "read", "read (pull, browse)"
    WRITE = "write", "write (push, create tags)"
    DELETE = "delete", "delete (delete, overwrite tags)"
    PROMOTE = "promote", "promote (from and into)"
    ADMIN = "admin", "admin (manage the repository)"


class RepositoryGrant(models.Model):
    """One permission on one repository, held by a user or by a team (exactly one of the two)."""

    repository = models.ForeignKey("repos.Repository", on_delete=models.CASCADE, related_name="grants")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="repository_grants"
    )
    team = models.ForeignKey(Group, null=True, blank=True, on_delete=models.CASCADE, related_name="repository_grants")
    permission = models.CharField(max_length=16, choices=Permission.choices)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["repository__key", "permission", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(user__isnull=False, team__isnull=True) | Q(user__isnull=True, team__isnull=False)),
                name="grant_user_xor_team",
            ),
            models.UniqueConstraint(
                fields=["repository", "user", "permission"], condition=Q(user__isnull=False), name="uniq_user_grant"
            ),
            models.UniqueConstraint(
                fields=["repository", "team", "permission"], condition=Q(team__isnull=False), name="uniq_team_grant"
            ),
        ]

    @property
    def principal(self) -> str:
        if self.user is not None:
            return f"user:{self.user.username}"
        if self.team is not None:
            return f"team:{self.team.name}"
        raise ValueError(f"grant {self.pk} names neither a user nor a team")  # the check constraint forbids it

    def __str__(self) -> str:
        return f"{self.principal} {self.permission} on {self.repository.key}"


class ApiToken(models.Model):
    """A secret a script or CI presents instead of a password; it acts as its creator, within its scope.

    Only a SHA-256 of the secret is kept (the secret is 256 random bits, so no slow hash is needed);
    `prefix` is the public part used to find the row and to show the token in lists.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    permissions = models.JSONField(default=list, help_text="The permissions this token may use.")
    repositories = models.ManyToManyField(
        "repos.Repository",
        blank=True,
        related_name="+",
        help_text="Limit the token to these repositories; empty means every repository its creator can reach.",
    )
    created = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used = models.DateTimeField(null=True, blank=True)
    # Tokens a build minted for its own push are the user's too, but not theirs to manage: kept out of their list.
    purpose = models.CharField(
        max_length=8, choices=[("user", "created by the user"), ("build", "minted by a build")], default="user"
    )

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…, {self.user.username})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()


class AuditEvent(models.Model):
    """A security event. Names are copied so the log still reads after users are deleted; no secrets."""

    class Action(models.TextChoices):
        LOGIN = "login"
        LOGIN_FAILED = "login_failed"
        LOGOUT = "logout"
        REGISTRY_LOGIN = "registry_login"
        TOKEN_CREATED = "token_created"
        TOKEN_REVOKED = "token_revoked"
        PERMISSION_GRANTED = "permission_granted"
        PERMISSION_REVOKED = "permission_revoked"
        VISIBILITY_CHANGED = "visibility_changed"
        USER_CREATED = "user_created"
        USER_CHANGED = "user_changed"
        TEAM_CHANGED = "team_changed"
        # Recorded by insights/ (the dotted codes are part of the documented log).
        SMOKE_TEST_SAVED = "smoke_test.save"
        SMOKE_TEST_DELETED = "smoke_test.delete"
        WEBHOOK_CREATED = "webhook.create"
        WEBHOOK_DELETED = "webhook.delete"
        ALERT_ACKNOWLEDGED = "alert.acknowledge"

    created = models.DateTimeField(default=timezone.now, db_index=True)
    action = models.CharField(max_length=32, choices=Action.choices, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True)
    target = models.CharField(max_length=255, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return f"{self.created:%Y-%m-%d %H:%M:%S} {self.action} {self.actor_name} {self.target}"
