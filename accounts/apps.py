from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and permissions"

    def ready(self):
        from accounts import schema, signals  # noqa: F401  (OpenAPI security schemes; the audit receivers)
