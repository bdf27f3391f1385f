"""Read-only REST API over repositories, images, tags, manifests and coverage (DRF)."""
