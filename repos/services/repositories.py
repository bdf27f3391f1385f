"""Repository lifecycle."""
from django.conf import settings

from repos.models import Repository


def repositories_seed_defaults() -> list[Repository]:
    """Create the default local repositories if they are missing; never changes existing ones."""
    seeded = []
    for position, key in enumerate(settings.SEED_REPOSITORIES):
        repository, _ = Repository.objects.get_or_create(
            key=key, defaults={"description": f"Local repository {key}", "stage_order": position}
        )
        seeded.append(repository)
    return seeded
