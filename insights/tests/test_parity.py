"""Per-arch parity: platform images of one index that disagree are flagged; matching ones are not."""

from __future__ import annotations

from insights.models import Alert

AMD, ARM = "linux/amd64", "linux/arm64"
REV = "org.opencontainers.image.revision"
SAME = {
    REV: "abc123",
    "org.opencontainers.image.version": "1.0",
    "org.opencontainers.image.source": "https://git.example/app",
}


def _checks(alert: Alert) -> dict[str, str]:
    return {f["check"]: f["detail"] for f in alert.details["findings"]}


def test_arm64_from_another_revision_is_flagged(admin_client, stages, push_index):
    push_index(
        admin_client,
        name="docker-local/app",
        tag="1.0",
        platforms=[AMD, ARM],
        labels=SAME,
        per_platform={"arm64": {"labels": {REV: "def456"}}},
        attestation=True,
    )
    alert = Alert.objects.get(kind="parity")
    assert _checks(alert) == {f"label {REV}": "linux/amd64: abc123; linux/arm64: def456"}
    assert alert.tag == "1.0" and "differ in label org.opencontainers.image.revision" in alert.message


def test_one_program_for_two_machines_is_not_flagged(admin_client, stages, push_index):
    # Env values differ (TARGETARCH=...), names do not; attestations are not platforms.
    push_index(admin_client, name="docker-local/app", tag="1.0", platforms=[AMD, ARM], labels=SAME, attestation=True)
    assert not Alert.objects.filter(kind="parity").exists()


def test_each_check(admin_client, stages, push_index, settings):
    settings.PARITY_SIZE_RATIO = 3
    push_index(
        admin_client,
        name="docker-local/app",
        tag="2.0",
        platforms=[AMD, ARM],
        labels={"org.opencontainers.image.created": "2026-01-02T00:00:00Z"},
        per_platform={
            "arm64": {
                "cmd": ["/app/other"],
                "history_extra": 2,
                "repeat": 20000,
                "labels": {"org.opencontainers.image.created": "2026-01-03T00:00:00Z"},
            }
        },
    )
    checks = _checks(Alert.objects.get(kind="parity"))
    assert set(checks) == {"label org.opencontainers.image.created", "cmd", "build steps (history entries)", "size"}
    assert "86400 s apart" in checks["label org.opencontainers.image.created"]
    assert checks["build steps (history entries)"] == "linux/amd64: 1; linux/arm64: 3"
    assert "largest" in checks["size"]


def test_created_labels_close_together_are_fine(admin_client, stages, push_index):
    push_index(
        admin_client,
        name="docker-local/app",
        tag="3.0",
        platforms=[AMD, ARM],
        labels={"org.opencontainers.image.created": "2026-01-02T00:00:00Z"},
        per_platform={"arm64": {"labels": {"org.opencontainers.image.created": "2026-01-02T00:10:00Z"}}},
    )
    assert not Alert.objects.filter(kind="parity").exists()
