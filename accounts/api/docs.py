"""OpenAPI descriptions of the accounts API (users, teams, grants, visibility, tokens, audit) for drf-spectacular.

Views here are plain APIViews with input and output serializers; these helpers name them and their error
answers, so each operation appears in the schema with its real request and responses.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers

from accounts.api import serializers as s
from config.api_errors import error_response

ERRORS = {
    401: error_response("Not signed in (no or bad credentials)."),
    403: error_response("Signed in, but not allowed."),
}
NOT_FOUND = {404: error_response("No such object, or not visible to the caller.")}
INVALID = {400: error_response("Invalid input; `detail` maps each field to its messages.")}
PAGE = [
    OpenApiParameter("page", int, description="Page number, from 1."),
    OpenApiParameter("page_size", int, description="Rows per page."),
]
VISIBILITY = inline_serializer(
    "RepositoryVisibility", {"repository": serializers.CharField(), "is_public": serializers.BooleanField()}
)


def page_of(serializer, name: str):
    return inline_serializer(
        name,
        {
            "count": serializers.IntegerField(),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": serializer(many=True),
        },
    )


class TokenCreated(s.TokenOutput):
    token = serializers.CharField(help_text="The secret, shown this once.")

    class Meta(s.TokenOutput.Meta):
        fields = [*s.TokenOutput.Meta.fields, "token"]


def listing(output, name: str, tag: str, summary: str, extra_parameters=()):
    return extend_schema(
        operation_id=f"{name}_list",
        tags=[tag],
        summary=summary,
        parameters=[*PAGE, *extra_parameters],
        responses={200: page_of(output, f"Paginated{output.__name__}List"), **ERRORS},
    )


def creating(input_serializer, output, name: str, tag: str, summary: str):
    return extend_schema(
        operation_id=f"{name}_create",
        tags=[tag],
        summary=summary,
        request=input_serializer,
        responses={201: output, **INVALID, **ERRORS},
    )


def reading(output, name: str, tag: str, summary: str):
    return extend_schema(
        operation_id=f"{name}_retrieve", tags=[tag], summary=summary, responses={200: output, **ERRORS, **NOT_FOUND}
    )


def updating(input_serializer, output, name: str, tag: str, summary: str, method: str = "partial_update"):
    return extend_schema(
        operation_id=f"{name}_{method}",
        tags=[tag],
        summary=summary,
        request=input_serializer,
        responses={200: output, **INVALID, **ERRORS, **NOT_FOUND},
    )


def deleting(name: str, tag: str, summary: str):
    return extend_schema(
        operation_id=f"{name}_destroy",
        tags=[tag],
        summary=summary,
        request=None,
        responses={204: OpenApiResponse(description="Done."), **ERRORS, **NOT_FOUND},
    )
