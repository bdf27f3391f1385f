"""The OCI distribution protocol under /v2/."""
