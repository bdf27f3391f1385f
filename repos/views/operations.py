"""Operations page (site admins): garbage-collection runs and storage per repository."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from repos.selectors.storage import gc_runs, repositories_storage
from repos.views.common import paginate


def _require_superuser(request) -> None:
    if not request.user.is_superuser:
        raise PermissionDenied("Operations are for site admins.")


@login_required
def operations(request):
    _require_superuser(request)
    context = {
        "current": "operations",
        "page": paginate(request, gc_runs(), per_page=20),
        "storage": repositories_storage(),
        "gc_interval_hours": f"{settings.REGISTRY_GC_INTERVAL_SECONDS / 3600:g}",
    }
    return render(request, "repos/operations.html", context)


@login_required
@require_POST
def gc_start(request):
    _require_superuser(request)
    from repos.tasks import garbage_collect

    dry_run = request.POST.get("dry_run") == "1"
    garbage_collect.delay(dry_run=dry_run, trigger="dashboard")
    messages.success(request, "Garbage collection queued" + (" (dry run)." if dry_run else "."))
    return redirect("operations")
