"""Input and output shapes of the accounts REST API."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import ApiToken, AuditEvent, Permission, RepositoryGrant
from accounts.permissions import ALL_PERMISSIONS

if TYPE_CHECKING:
    from repos.models import Repository


class UserOutput(serializers.ModelSerializer):
    teams: serializers.SlugRelatedField[Group] = serializers.SlugRelatedField(
        source="groups", slug_field="name", many=True, read_only=True
    )

    class Meta:
        model = get_user_model()
        fields = ["id", "username", "email", "is_active", "is_superuser", "teams", "date_joined", "last_login"]


class UserCreateInput(serializers.Serializer):
    username = serializers.RegexField(r"^[\w.@+-]{1,150}$")
    password = serializers.CharField(write_only=True, trim_whitespace=False)
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    is_superuser = serializers.BooleanField(required=False, default=False)


class UserUpdateInput(serializers.Serializer):
    email = serializers.EmailField(required=False, allow_blank=True)
    is_active = serializers.BooleanField(required=False)
    is_superuser = serializers.BooleanField(required=False)
    password = serializers.CharField(required=False, write_only=True, trim_whitespace=False)


class TeamOutput(serializers.ModelSerializer):
    members = serializers.SerializerMethodField(help_text="Usernames of the members.")

    class Meta:
        model = Group
        fields = ["id", "name", "members"]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_members(self, team: Group) -> list[str]:
        return [user.username for user in team.user_set.all()]


class TeamInput(serializers.Serializer):
    name = serializers.CharField(max_length=150, required=False)
    members = serializers.ListField(child=serializers.CharField(max_length=150), required=False)


class GrantOutput(serializers.ModelSerializer):
    repository = serializers.CharField(source="repository.key")
    user = serializers.CharField(source="user.username", default=None)
    team = serializers.CharField(source="team.name", default=None)

    class Meta:
        model = RepositoryGrant
        fields = ["id", "repository", "user", "team", "permission", "created"]


class GrantInput(serializers.Serializer):
    user = serializers.CharField(max_length=150, required=False)
    team = serializers.CharField(max_length=150, required=False)
    permission = serializers.ChoiceField(choices=Permission.values)

    def validate(self, attrs):
        if bool(attrs.get("user")) == bool(attrs.get("team")):
            raise serializers.ValidationError("give exactly one of user or team")
        return attrs


class VisibilityInput(serializers.Serializer):
    is_public = serializers.BooleanField()


class TokenOutput(serializers.ModelSerializer):
    user = serializers.CharField(source="user.username")
    repositories: serializers.SlugRelatedField[Repository] = serializers.SlugRelatedField(
        slug_field="key", many=True, read_only=True
    )
    is_active = serializers.BooleanField(read_only=True)

    class Meta:
        model = ApiToken
        fields = [
            "id",
            "name",
            "prefix",
            "user",
            "permissions",
            "repositories",
            "created",
            "expires_at",
            "revoked_at",
            "last_used",
            "is_active",
        ]


class TokenCreateInput(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    permissions = serializers.MultipleChoiceField(choices=ALL_PERMISSIONS)
    repositories = serializers.ListField(child=serializers.CharField(max_length=64), required=False, default=list)
    expires_in_days = serializers.IntegerField(min_value=1, max_value=366, required=False, default=90)


class AuditEventOutput(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = ["id", "created", "action", "actor_name", "target", "ip_address", "detail"]
