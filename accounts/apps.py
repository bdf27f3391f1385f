from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and permissions"

    def ready(self):
        from accounts import signals  # noqa: F401  (connects the audit receivers)
