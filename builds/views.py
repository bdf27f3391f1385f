"""Browser pages for builds: the form, the list, and the build page with its live log and progress."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from accounts.permissions import PROMOTE, request_can
from builds.errors import BuildConflict, BuildDenied, BuildInvalid
from builds.forms import BuildForm
from builds.progress import percent
from builds.selectors import build_get_visible, builds_visible, repositories_writable
from builds.services.jobs import build_can_cancel, build_cancel, build_create
from config.errors import show_on_form
from repos.views.common import paginate

# htmx stops polling an element when the answer has this status (and still swaps it in).
STOP_POLLING = 286


def _job_or_404(request, pk):
    job = build_get_visible(user=request.user, build_id=pk)
    if job is None:
        raise Http404("no such build")
    return job


def _progress_rows(job) -> list[dict]:
    rows = []
    for platform in job.platforms:
        entry = (job.progress or {}).get(platform, {"done": 0, "total": 0, "state": "waiting"})
        digest = (job.platform_digests or {}).get(platform, "")
        rows.append({"platform": platform, **entry, "percent": percent(entry), "digest": digest})
    return rows


@login_required
def build_list(request):
    page = paginate(request, builds_visible(request.user))
    return render(request, "builds/list.html", {"page": page, "jobs": page.object_list})


@login_required
def build_new(request):
    repositories = repositories_writable(request.user)
    form = BuildForm(request.POST or None, request.FILES or None, repositories=repositories)
    if request.method == "POST" and form.is_valid():
        try:
            job = build_create(user=request.user, request=form.to_request(), archive=form.cleaned_data["context"])
        except (BuildInvalid, BuildDenied) as exc:
            show_on_form(form, exc)
        else:
            return redirect("build-detail", pk=job.pk)
    return render(request, "builds/new.html", {"form": form, "repositories": repositories})


def _status_context(request, job) -> dict:
    succeeded = job.status == job.Status.SUCCEEDED and job.repository is not None
    return {
        "job": job,
        "rows": _progress_rows(job),
        "can_cancel": not job.is_terminal and build_can_cancel(request.user, job),
        # "Promote this build": the promotion form, prefilled through its query parameters.
        "promote_links": promote_links(job) if succeeded and request_can(request, job.repository, PROMOTE) else [],
    }


def promote_links(job) -> list[tuple[str, str]]:
    """(tag, URL of the promotion form prefilled with this build's image and that tag), first tag first."""
    base = reverse("promotion-new")
    return [
        (tag, f"{base}?{urlencode({'repository': job.repository_key, 'image': job.image_name, 'tag': tag})}")
        for tag in job.tags
    ]


def build_detail(request, pk: int):
    job = _job_or_404(request, pk)
    return render(request, "builds/detail.html", _status_context(request, job))


def build_status_fragment(request, pk: int):
    job = _job_or_404(request, pk)
    response = render(request, "builds/partials/_status.html", _status_context(request, job))
    if job.is_terminal:
        response.status_code = STOP_POLLING
    return response


@login_required
@require_POST
def build_cancel_view(request, pk: int):
    job = _job_or_404(request, pk)
    try:
        build_cancel(job=job, user=request.user)
        messages.info(request, f"Build #{job.pk}: cancel requested.")
    except (BuildDenied, BuildConflict) as exc:
        messages.error(request, str(exc))
    return redirect("build-detail", pk=job.pk)
