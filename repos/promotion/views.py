"""Promotion pages: the promote form with its preview, a job's progress, and the ledger."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts.permissions import PROMOTE, readable_repositories, request_can
from config.public_url import public_host
from repos import errors
from repos.models import PromotionJob
from repos.promotion.execution import promotion_plan
from repos.promotion.forms import PREFILL, PromotionForm
from repos.promotion.jobs import promotion_job_create
from repos.promotion.pins import plan_pin, plan_unpin
from repos.promotion.selectors import (
    promotion_job_find,
    promotion_jobs_visible,
    promotion_linked_content,
    promotion_resulting_tags,
)
from repos.selectors.stages import in_stage_order, next_stage_key
from repos.views.common import paginate


@login_required
@require_http_methods(["GET", "POST"])
def promotion_new(request):
    """GET: the form (prefilled from the query). POST `preview`: what would happen, pinned for Confirm.
    POST `confirm`: queue exactly the pinned plan, or refuse when the form or the source changed since."""
    readable = list(readable_repositories(request.user))
    keys = [r.key for r in in_stage_order(readable)]
    if request.method == "GET":
        form = PromotionForm(initial=_prefill(request, readable, keys), repository_keys=keys)
        return _render(request, {"form": form}, keys)
    form = PromotionForm(request.POST, repository_keys=keys)
    context = {"form": form}
    if form.is_valid():
        try:
            if "confirm" in request.POST:
                _require_promote(request, readable, form)
                pinned = plan_unpin(form.cleaned_data["pinned"], current=form.promotion_request())
                job = promotion_job_create(request=pinned, user=request.user)
                return redirect("promotion-detail", pk=job.pk)
            plan = promotion_plan(request=form.promotion_request(), user=request.user)
            context["plan"] = plan
            if plan.allowed:
                context["pinned"] = plan_pin(plan)
        except errors.RegistryError as exc:
            context["error"] = exc
    return _render(request, context, keys, status=_error_status(context.get("error")))


def _prefill(request, readable, keys: list[str]) -> dict:
    """Initial values from the query (tag pages, builds, the stage view); the target defaults to the
    next stage after the source, and Copy is the mode unless the link asks for a move."""
    initial = {field: request.GET.get(param, "").strip() for param, field in PREFILL.items() if request.GET.get(param)}
    source = initial.get("source_repository") or (keys[0] if keys else "")
    initial.setdefault("target_repository", next_stage_key(readable, source))
    if initial["target_repository"] == source:
        initial["target_repository"] = ""
    if initial.get("mode") not in ("copy", "move"):
        initial["mode"] = "copy"
    return initial


def _render(request, context: dict, keys: list[str], status: int = 200):
    context["stage_order"] = keys
    return render(request, "promotions/form.html", context, status=status)


def _error_status(error) -> int:
    if error is None:
        return 200
    return error.status if error.status in (403, 404, 409) else 400


def _require_promote(request, readable, form) -> None:
    """Refuse at once what the job would refuse anyway for lack of permission (the preview explains why)."""
    chosen = {form.cleaned_data["source_repository"], form.cleaned_data["target_repository"]}
    for repository in readable:
        if repository.key in chosen and not request_can(request, repository, PROMOTE):
            raise PermissionDenied(f"You may not promote from or into {repository.key}.")


@login_required
def promotion_detail(request, pk: int):
    job = promotion_job_find(user=request.user, pk=pk)
    if job is None:
        raise Http404("No such promotion")
    return render(
        request,
        "promotions/detail.html",
        {
            "job": job,
            "linked": promotion_linked_content(job=job),
            "result": job.result or {},
            "resulting_tags": promotion_resulting_tags(job=job),
            "host": public_host(request),
            "refresh": job.status in (PromotionJob.Status.QUEUED, PromotionJob.Status.RUNNING),
        },
    )


@login_required
def promotion_list(request):
    """Every promotion the user may see; with ?digest=, where that digest has been promoted and by whom."""
    digest = request.GET.get("digest", "").strip()
    jobs = promotion_jobs_visible(
        user=request.user,
        digest=digest,
        status=request.GET.get("status", ""),
        repository=request.GET.get("repository", ""),
    )
    return render(request, "promotions/list.html", {"page": paginate(request, jobs), "digest": digest})
