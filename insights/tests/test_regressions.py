"""Platform regressions: against the previous release tag and the same tag in the previous stage."""

from __future__ import annotations

from insights.models import Alert
from repos.models import Repository

AMD, ARM = "linux/amd64", "linux/arm64"


def test_release_losing_a_platform_records_an_alert_naming_it(admin_client, stages, push_index):
    push_index(admin_client, name="docker-local/webapp", tag="1.1", platforms=[AMD, ARM])
    push_index(admin_client, name="docker-local/webapp", tag="1.2", platforms=[AMD])
    alert = Alert.objects.get()
    assert alert.kind == "platform-regression" and alert.tag == "1.2"
    assert alert.details["lost"] == [ARM]
    assert alert.details["comparisons"] == [
        {"basis": "release", "compared_with": "docker-local/webapp:1.1", "lost": [ARM]}
    ]
    assert "webapp:1.2 lacks linux/arm64, which docker-local/webapp:1.1 (the previous release) had" in alert.message


def test_same_or_more_platforms_and_non_versions_record_nothing(admin_client, stages, push_index):
    push_index(admin_client, name="docker-local/webapp", tag="1.1", platforms=[AMD])
    push_index(admin_client, name="docker-local/webapp", tag="1.2", platforms=[AMD, ARM], attestation=True)
    push_index(admin_client, name="docker-local/webapp", tag="1.3", platforms=[AMD, ARM])
    push_index(admin_client, name="docker-local/webapp", tag="latest", platforms=[AMD])  # not a release
    assert not Alert.objects.exists()


def test_attestations_are_not_platforms(admin_client, stages, push_index):
    push_index(admin_client, name="docker-local/webapp", tag="2.0", platforms=[AMD], attestation=True)
    push_index(admin_client, name="docker-local/webapp", tag="2.1", platforms=[AMD])
    assert not Alert.objects.exists()


def test_release_is_compared_with_the_highest_version_below(admin_client, stages, push_index):
    push_index(admin_client, name="docker-local/webapp", tag="1.9", platforms=[AMD, ARM])
    push_index(admin_client, name="docker-local/webapp", tag="1.10", platforms=[AMD, ARM])
    push_index(admin_client, name="docker-local/webapp", tag="2.0", platforms=[AMD, ARM])
    push_index(admin_client, name="docker-local/webapp", tag="1.11", platforms=[AMD])  # a backport
    alert = Alert.objects.get()
    assert alert.details["comparisons"][0]["compared_with"] == "docker-local/webapp:1.10"


def test_same_tag_in_the_previous_stage(admin_client, stages, push_index):
    push_index(admin_client, name="docker-local/webapp", tag="latest", platforms=[AMD, ARM])
    push_index(admin_client, name="docker-target/webapp", tag="latest", platforms=[ARM])
    alert = Alert.objects.get()
    assert alert.repository == Repository.objects.get(key="docker-target")
    assert alert.details["comparisons"] == [
        {"basis": "stage", "compared_with": "docker-local/webapp:latest", "lost": [AMD]}
    ]


def test_pushing_the_same_content_again_adds_no_second_alert(admin_client, stages, push_index):
    push_index(admin_client, name="docker-local/webapp", tag="1.1", platforms=[AMD, ARM])
    push_index(admin_client, name="docker-local/webapp", tag="1.2", platforms=[AMD])
    push_index(admin_client, name="docker-local/webapp", tag="1.2", platforms=[AMD])
    assert Alert.objects.count() == 1


def test_promotion_into_a_stage_whose_previous_release_had_more(
    admin_client, stages, push_index, django_capture_on_commit_callbacks, django_user_model
):
    """Promotion sets tags through the same tag service: the target's release history is compared too."""
    from repos.promotion.domain import PromotionRequest
    from repos.promotion.execution import promotion_execute

    push_index(admin_client, name="docker-target/webapp", tag="1.1", platforms=[AMD, ARM])
    push_index(admin_client, name="docker-local/webapp", tag="1.2", platforms=[AMD])
    assert not Alert.objects.exists()
    admin = django_user_model.objects.get(username="dash-admin")
    with django_capture_on_commit_callbacks(execute=True):
        promotion_execute(
            request=PromotionRequest(
                source_key="docker-local",
                source_image="webapp",
                target_key="docker-target",
                source_tag="1.2",
                copy=True,
            ),
            user=admin,
        )
    alert = Alert.objects.get()
    assert alert.repository.key == "docker-target" and alert.tag == "1.2"
    assert alert.details["comparisons"][0]["compared_with"] == "docker-target/webapp:1.1"
