"""Repository lifecycle."""
from django.conf import settings

from repos.models import Repository

# Stage labels of the seeded repositories, in order: the first is where CI pushes, the next where
# tested images are promoted. Orders leave gaps so stages can be inserted between them.
SEED_STAGES = ("dev", "release")
SEED_STAGE_STEP = 10


def seed_stage(position: int) -> tuple[str, int]:
    label = SEED_STAGES[position] if position < len(SEED_STAGES) else f"stage-{position + 1}"
    return label, (position + 1) * SEED_STAGE_STEP


def repositories_seed_defaults() -> list[Repository]:
    """Create the default local repositories if they are missing, with their stages.

    An existing repository is never changed, except that one still without any stage (seeded by an
    older version) gets its seeded stage, so the dashboard reads left to right as a pipeline.
    """
    seeded = []
    for position, key in enumerate(settings.SEED_REPOSITORIES):
        stage, order = seed_stage(position)
        repository, created = Repository.objects.get_or_create(
            key=key, defaults={"description": f"Local repository {key}", "stage": stage, "stage_order": order}
        )
        if not created and not repository.stage and repository.stage_order == position:
            Repository.objects.filter(pk=repository.pk, stage="").update(stage=stage, stage_order=order)
            repository.refresh_from_db()
        seeded.append(repository)
    return seeded
