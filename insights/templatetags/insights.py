from django import template

from accounts.permissions import user_can
from insights import selectors

register = template.Library()


@register.inclusion_tag("insights/partials/_alerts.html", takes_context=True)
def open_alerts(context, image=None, tag: str = "", limit: int = 20, heading: str = "Alerts"):
    """Open alerts the viewer can see: of one image (and tag), or of every readable repository."""
    request = context.get("request")
    alerts = selectors.alerts_filtered(getattr(request, "user", None), state="open")
    if image is not None:
        alerts = alerts.filter(image=image)
    if tag:
        alerts = alerts.filter(tag=tag)
    rows = list(alerts[: limit + 1])
    user = getattr(request, "user", None)
    repositories = {alert.repository_id: alert.repository for alert in rows}
    # Only writers may acknowledge: the form shows for them alone.
    writable = {pk for pk, repository in repositories.items() if user_can(user, repository, "write")}
    return {
        "alerts": rows[:limit],
        "more": len(rows) > limit,
        "request": request,
        "heading": heading,
        "image": image,
        "tag": tag,
        "user": user,
        "writable": writable,
    }


@register.simple_tag
def open_alert_counts(rows) -> dict:
    """(image id, tag) → open alerts, for the coverage rows of one page (one query)."""
    from django.db.models import Count

    from insights.models import Alert

    image_ids = {row.image_id for row in rows}
    if not image_ids:
        return {}
    counted = (
        Alert.objects.filter(image_id__in=image_ids, acknowledged_at__isnull=True)
        .values_list("image_id", "tag")
        .annotate(n=Count("id"))
    )
    return {(image_id, tag): n for image_id, tag, n in counted}


@register.simple_tag
def alert_count(counts: dict, image_id: int, tag) -> int:
    return counts.get((image_id, tag), 0)


@register.inclusion_tag("insights/partials/_smoke_tests.html", takes_context=True)
def smoke_test_card(context, image, tag):
    """The latest smoke test run of a tag, per platform, with "run again" for writers."""
    request = context.get("request")
    user = getattr(request, "user", None)
    repository = image.repository
    has_test, run = selectors.smoke_test_card_state(image=image, tag=tag.name)
    return {
        "request": request,
        "image": image,
        "tag": tag,
        "run": run,
        "stale": run is not None and run.digest != tag.manifest.digest,
        "has_test": has_test,
        "can_run": has_test and user_can(user, repository, "write"),
    }


@register.inclusion_tag("insights/partials/_smoke_test_settings.html", takes_context=True)
def smoke_test_settings_card(context, repository):
    """The repository's smoke test on its settings page (saved through its own form)."""
    from insights.forms import SmokeTestForm, smoke_test_initial
    from insights.models import SmokeTest

    test = SmokeTest.objects.filter(repository=repository).first()
    return {
        "request": context.get("request"),
        "repository": repository,
        "test": test,
        "form": SmokeTestForm(initial=smoke_test_initial(test)),
    }
