"""OpenAPI security schemes for the REST API's own authentication classes (drf-spectacular extensions):
`Authorization: Bearer <API token>` and Basic (password or API token); the browser session is DRF's."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class BearerApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.BearerApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token made at /accounts/tokens/ (or POST /api/tokens/): "
            "`Authorization: Bearer <token>`. It acts as its creator, within its scope.",
        }


class BasicCredentialsScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.BasicCredentialsAuthentication"
    name = "basicAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "basic",
            "description": "Username and password, or any username (e.g. `token`) with an API token.",
        }
