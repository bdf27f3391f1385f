from django.apps import AppConfig


class InsightsConfig(AppConfig):
    """What a registry does not tell you: platform regressions, per-arch parity, webhooks."""

    name = "insights"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from insights import receivers  # noqa: F401  (connects the signal receivers)
