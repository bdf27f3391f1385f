"""A thin registry client over Django's test client, speaking the distribution API."""

from __future__ import annotations

from tests.support.content import digest_of


class RegistryClient:
    def __init__(self, client):
        self.client = client

    def push_blob(self, name: str, data: bytes) -> str:
        digest = digest_of(data)
        response = self.client.post(
            f"/v2/{name}/blobs/uploads/?digest={digest}", data=data, content_type="application/octet-stream"
        )
        assert response.status_code == 201, response.content
        return digest

    def push_manifest(self, name: str, reference: str, raw: bytes, media_type: str):
        return self.client.put(f"/v2/{name}/manifests/{reference}", data=raw, content_type=media_type)

    def get_manifest(self, name: str, reference: str, accept: str | None = None):
        headers = {"HTTP_ACCEPT": accept} if accept else {}
        return self.client.get(f"/v2/{name}/manifests/{reference}", **headers)

    def tags(self, name: str) -> list[str]:
        response = self.client.get(f"/v2/{name}/tags/list")
        assert response.status_code == 200, response.content
        return response.json()["tags"]


def error_code(response) -> str:
    return response.json()["errors"][0]["code"]
