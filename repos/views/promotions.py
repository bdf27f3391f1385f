"""Promotion pages: the promote form with its preview, a job's progress, and the ledger."""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts.permissions import PROMOTE, readable_repositories, request_can
from repos import errors
from repos.forms_promotion import PromotionForm
from repos.models import PromotionJob
from repos.selectors_promotion import promoted_digests, promotion_job_find, promotion_jobs_visible
from repos.services.promotion import promotion_plan
from repos.services.promotion_jobs import promotion_job_create
from repos.views.common import paginate


@login_required
@require_http_methods(["GET", "POST"])
def promotion_new(request):
    """GET: the form. POST `preview`: what would happen. POST `confirm`: queue the job."""
    readable = list(readable_repositories(request.user))
    keys = [r.key for r in readable]
    if request.method == "GET":
        initial = {k: request.GET.get(p, "") for k, p in
                   (("source_repository", "repository"), ("image", "image"), ("source_tag", "tag"))}
        form = PromotionForm(initial=initial, repository_keys=keys)
        return render(request, "promotions/form.html", {"form": form})
    form = PromotionForm(request.POST, repository_keys=keys)
    context = {"form": form}
    if form.is_valid():
        try:
            if "confirm" in request.POST:
                _require_promote(request, readable, form)
                job = promotion_job_create(request=form.promotion_request(), user=request.user)
                return redirect("promotion-detail", pk=job.pk)
            context["plan"] = promotion_plan(request=form.promotion_request(), user=request.user)
        except errors.RegistryError as exc:
            context["error"] = exc
    return render(request, "promotions/form.html", context, status=400 if context.get("error") else 200)


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
    return render(request, "promotions/detail.html", {
        "job": job, "digests": promoted_digests(job=job), "result": job.result or {},
        "refresh": job.status in (PromotionJob.Status.QUEUED, PromotionJob.Status.RUNNING),
    })


@login_required
def promotion_list(request):
    """Every promotion the user may see; with ?digest=, where that digest has been promoted and by whom."""
    digest = request.GET.get("digest", "").strip()
    jobs = promotion_jobs_visible(user=request.user, digest=digest, status=request.GET.get("status", ""),
                                  repository=request.GET.get("repository", ""))
    return render(request, "promotions/list.html", {"page": paginate(request, jobs), "digest": digest})
