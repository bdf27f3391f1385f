from django.apps import AppConfig


class InsightsConfig(AppConfig):
    """What a registry does not tell you: platform regressions, per-arch parity, smoke tests, webhooks."""

    name = "insights"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from insights import receivers  # noqa: F401  (connects the signal receivers)
        from insights.services.smoke_gate import smoke_test_refusals
        from repos.promotion.rules import promotion_rule_register

        promotion_rule_register(smoke_test_refusals)
