from django.apps import AppConfig


class ReposConfig(AppConfig):
    name = "repos"
    verbose_name = "Repositories"

    def ready(self) -> None:
        from repos.services import aggregates  # noqa: F401  (connects the signals that keep aggregates current)
