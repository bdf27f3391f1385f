"""Reads: alerts, smoke test runs and webhooks the caller may see."""

from __future__ import annotations

from typing import TypeVar

from django.db.models import Exists, OuterRef, QuerySet, Subquery

from accounts.permissions import is_site_admin, readable_repositories, user_can
from insights.models import Alert, SmokeTest, SmokeTestRun, Webhook, WebhookDelivery
from repos.models import Repository

_Tagged = TypeVar("_Tagged", Alert, SmokeTestRun)


def alerts_visible(user) -> QuerySet[Alert]:
    return Alert.objects.filter(repository__in=readable_repositories(user)).select_related(
        "repository", "image", "acknowledged_by"
    )


def alerts_filtered(
    user, *, repository: str = "", image: str = "", tag: str = "", kind: str = "", state: str = ""
) -> QuerySet[Alert]:
    alerts = _of_tag(alerts_visible(user), repository=repository, image=image, tag=tag)
    if kind:
        alerts = alerts.filter(kind=kind)
    if state == "open":
        alerts = alerts.filter(acknowledged_at__isnull=True)
    elif state == "acknowledged":
        alerts = alerts.filter(acknowledged_at__isnull=False)
    return alerts


def _of_tag(rows: QuerySet[_Tagged], *, repository: str, image: str, tag: str) -> QuerySet[_Tagged]:
    """Rows (alerts, smoke test runs) of a repository key, image name and tag: each only when given."""
    if repository:
        rows = rows.filter(repository__key=repository)
    if image:
        rows = rows.filter(image__name=image)
    if tag:
        rows = rows.filter(tag=tag)
    return rows


def webhooks_manageable(user) -> QuerySet[Webhook]:
    """Site admins see every webhook; repository admins those of the repositories they administer."""
    hooks = Webhook.objects.select_related("repository")
    if is_site_admin(user):
        return hooks
    if not getattr(user, "is_authenticated", False):
        return hooks.none()
    return hooks.filter(repository__in=repositories_administered(user))


def repositories_administered(user) -> QuerySet[Repository]:
    """Repositories `user` administers (a site admin: every one)."""
    if is_site_admin(user):
        return Repository.objects.all()
    return Repository.objects.filter(pk__in=[r.pk for r in Repository.objects.all() if user_can(user, r, "admin")])


def webhook_deliveries(*, webhook: Webhook) -> QuerySet[WebhookDelivery]:
    """A webhook's deliveries (the model's order: newest first) with their attempts."""
    return webhook.deliveries.prefetch_related("attempt_log")


def webhook_delivery_find(*, webhook: Webhook, pk) -> WebhookDelivery | None:
    return webhook.deliveries.filter(pk=pk).first()


def webhook_delivery_pending(*, pk: int) -> WebhookDelivery | None:
    """A delivery still to attempt, with its webhook; None when it is gone or finished (a redelivered broker
    message for a delivery that already ended)."""
    finished = (WebhookDelivery.Status.DELIVERED, WebhookDelivery.Status.FAILED)
    return WebhookDelivery.objects.select_related("webhook").filter(pk=pk).exclude(status__in=finished).first()


def smoke_test_of(*, repository: Repository) -> SmokeTest | None:
    """The repository's smoke test, if it has one."""
    return SmokeTest.objects.filter(repository=repository).select_related("repository").first()


def smoke_runs_filtered(
    user, *, repository: str = "", image: str = "", tag: str = "", digest: str = "", status: str = ""
) -> QuerySet[SmokeTestRun]:
    runs = SmokeTestRun.objects.filter(repository__in=readable_repositories(user)).select_related(
        "repository", "image", "test_repository", "requested_by"
    )
    runs = _of_tag(runs, repository=repository, image=image, tag=tag)
    if digest:
        runs = runs.filter(digest=digest)
    if status:
        runs = runs.filter(status=status)
    return runs.prefetch_related("results")


def smoke_test_card_state(*, image, tag: str) -> tuple[bool, SmokeTestRun | None]:
    """(the repository has a smoke test, the tag's latest run with its results): one query when never run."""
    latest = SmokeTestRun.objects.filter(image=image, tag=tag).order_by("-created", "-id").values("pk")[:1]
    state = (
        Repository.objects.filter(pk=image.repository_id)
        .annotate(has_test=Exists(SmokeTest.objects.filter(repository=OuterRef("pk"))), run_id=Subquery(latest))
        .values("has_test", "run_id")
        .first()
    )
    if state is None:
        return False, None
    run = None
    if state["run_id"] is not None:
        run = (
            SmokeTestRun.objects.filter(pk=state["run_id"])
            .select_related("test_repository", "requested_by")
            .prefetch_related("results")
            .first()
        )
    return state["has_test"], run
