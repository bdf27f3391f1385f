"""The promotion rule `smoke-test`: a repository whose smoke test is "required for promotion" takes only
content that passed that test on every platform.

Results are keyed by platform image digest and test definition (fingerprint of command, expected exit code,
output pattern and time limit), not by repository: a digest that passed in the source repository under
the same definition counts, so a pipeline whose stages share one test runs it once per digest. What counts
for a platform is its latest finished result under that definition (a failing re-run withdraws an earlier
pass). A platform without one is "not yet tested": run the target's test on the source tag first
(`POST /api/smoke-tests/` with `test_repository`), or give the source the same test.
"""

from __future__ import annotations

from insights.models import SmokeTest, SmokeTestResult
from insights.services.smoke_runs import platform_digests
from repos.promotion.domain import PromotionPlan, Refusal

RULE_SMOKE_TEST = "smoke-test"


def latest_verdicts(images: dict[str, str], fingerprint: str) -> dict[str, SmokeTestResult | None]:
    """platform → the latest finished result of its image digest under the definition, or None."""
    finished = (
        SmokeTestResult.objects.filter(manifest_digest__in=set(images.values()), fingerprint=fingerprint)
        .exclude(status=SmokeTestResult.Status.PENDING)
        .order_by("finished_at", "id")
    )
    # Oldest first, so the latest of each digest is the one left in the dict (few rows per digest).
    by_digest = {result.manifest_digest: result for result in finished}
    return {platform: by_digest.get(digest) for platform, digest in images.items()}


def smoke_test_refusals(plan: PromotionPlan) -> list[Refusal]:
    """Refusals for a promotion plan (repos promotion planning calls the registered rules)."""
    target = plan.target_repository
    if target is None:  # a plan refused before its repositories were resolved
        return []
    test = SmokeTest.objects.filter(repository=target, required_for_promotion=True).first()
    if test is None:
        return []
    refusals = []
    for target_tag, manifest in plan.primaries:
        images = platform_digests(manifest)
        verdicts = latest_verdicts(images, test.fingerprint)
        failing = {
            platform: result.detail or result.reason
            for platform, result in sorted(verdicts.items())
            if result is not None and result.status != SmokeTestResult.Status.PASSED
        }
        untested = sorted(platform for platform, result in verdicts.items() if result is None)
        if not images:
            untested = ["(no platform image)"]
        if not failing and not untested:
            continue
        parts = [f"fails on {platform} ({why})" for platform, why in failing.items()]
        if untested:
            parts.append(f"is not yet tested on {', '.join(untested)} with {target.key}'s test")
        refusals.append(
            Refusal(
                RULE_SMOKE_TEST,
                f"{target.key} requires passing smoke tests: {target_tag} ({manifest.digest[:19]}) {'; '.join(parts)}",
                {
                    "repository": target.key,
                    "tag": target_tag,
                    "digest": manifest.digest,
                    "failing": failing,
                    "untested": untested,
                    "command": test.command,
                },
            )
        )
    return refusals
