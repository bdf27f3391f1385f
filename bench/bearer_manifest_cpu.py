"""CPU time per manifest GET inside Django, by kind of caller: the figure that decides the
authenticated pull rate on a machine whose cores are shared (wall-clock rates move with the load).

A temporary DATA_DIR is migrated and bootstrapped (SQLite, as `make run`), a small image pushed, then
the same WSGI request is repeated in-process and `time.process_time()` is read around batches:
anonymous (public repository), Bearer JWT of a superuser, of a plain writer, and of a writer's API
token. The best batch of five is reported (the least disturbed by other processes).

Usage: .venv/bin/python bench/bearer_manifest_cpu.py [--requests 3000]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OCI = "application/vnd.oci.image.manifest.v1+json"


def prepare(data_dir: Path) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")},
        "DATA_DIR": str(data_dir),
        "ADMIN_PASSWORD": "bench-admin-password",
        # The in-process test client sends Host: testserver.
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
    }
    for command in (["migrate", "--noinput"], ["bootstrap"]):
        subprocess.run([sys.executable, str(ROOT / "manage.py"), *command], env=env, check=True, capture_output=True)
    os.environ.update(env, DJANGO_SETTINGS_MODULE="config.settings")


def seed() -> dict[str, tuple[str, int | None] | None]:
    """Content and callers; returns (subject, API token id) per kind of caller, None for anonymous."""
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.utils import timezone

    from accounts.models import RepositoryGrant
    from accounts.services.tokens import token_create
    from repos.models import Repository

    users = get_user_model()
    admin = users.objects.get(username="admin")
    client = Client()
    client.force_login(admin)
    public = Repository.objects.create(key="bench-public", is_public=True)
    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}).encode()
    for name in ("docker-local/bench", "bench-public/bench"):
        descriptors = []
        for blob, media_type in (
            (config, "application/vnd.oci.image.config.v1+json"),
            (b"bench layer", "application/vnd.oci.image.layer.v1.tar+gzip"),
        ):
            digest = "sha256:" + hashlib.sha256(blob).hexdigest()
            assert (
                client.post(
                    f"/v2/{name}/blobs/uploads/?digest={digest}", data=blob, content_type="application/octet-stream"
                ).status_code
                == 201
            )
            descriptors.append({"mediaType": media_type, "digest": digest, "size": len(blob)})
        manifest = json.dumps(
            {"schemaVersion": 2, "mediaType": OCI, "config": descriptors[0], "layers": descriptors[1:]}
        ).encode()
        assert client.put(f"/v2/{name}/manifests/bench", data=manifest, content_type=OCI).status_code == 201
    writer = users.objects.create_user(username="bench-writer", password=None)
    local = Repository.objects.get(key="docker-local")
    RepositoryGrant.objects.create(user=writer, repository=local, permission="write")
    token, _ = token_create(
        creator=writer,
        name="bench",
        permissions=["read", "write"],
        repositories=[local],
        expires_at=timezone.now() + timedelta(days=1),
    )
    assert public.pk
    return {
        "anonymous (public repository)": None,
        "Bearer, superuser": ("admin", None),
        "Bearer, plain writer": (writer.username, None),
        "Bearer, writer's API token": (writer.username, token.pk),
    }


def authorization(caller: tuple[str, int | None] | None) -> str:
    """A fresh JWT for the caller (issued per measurement: a slow run must not outlive its lifetime)."""
    from repos.registry import tokens as registry_tokens

    if caller is None:
        return ""
    access = [{"type": "repository", "name": "docker-local/bench", "actions": ["pull"]}]
    jwt, _, _ = registry_tokens.token_issue(subject=caller[0], access=access, api_token_id=caller[1])
    return f"Bearer {jwt}"


def measure(auth: str, requests: int) -> float:
    from django.core.handlers.wsgi import WSGIHandler

    app = WSGIHandler()
    path = "/v2/bench-public/bench/manifests/bench" if not auth else "/v2/docker-local/bench/manifests/bench"

    def one():
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(b""),
            "wsgi.errors": sys.stderr,
            "HTTP_ACCEPT": OCI,
        }
        if auth:
            environ["HTTP_AUTHORIZATION"] = auth
        status = []
        b"".join(app(environ, lambda s, h: status.append(s)))
        assert status[0].startswith("200"), status

    for _ in range(200):
        one()
    best = float("inf")
    for _ in range(5):
        started = time.process_time()
        for _ in range(requests):
            one()
        best = min(best, (time.process_time() - started) / requests)
    return best * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=3000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-bearer-") as work:
        prepare(Path(work) / "data")
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        callers = seed()
        print(f"CPU per manifest GET inside Django, best of 5 batches of {args.requests}")
        print("| caller | CPU per request |\n|---|---|")
        for label, caller in callers.items():
            print(f"| {label} | {measure(authorization(caller), args.requests):,.0f} µs |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
