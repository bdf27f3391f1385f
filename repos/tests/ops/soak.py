"""A bounded push/promote/GC soak against a running server, with docker's request pattern.

Pushers HEAD each blob and upload only what is missing (monolithic or in chunks), then PUT the
manifest; some tags are overwritten or deleted (garbage appears all the time). A promoter copies
pushed tags to docker-target through the Artifactory-style REST call (a real Celery worker runs
it). Meanwhile `manage.py gc` runs again and again with a short grace window. Afterwards every
tag that should exist pulls byte-identical, and GC did reclaim something.
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
from dataclasses import dataclass, field

import requests

from repos.oci import media_types
from repos.oci.digests import sha256_digest as digest_of
from tests.support.content import image_config, image_manifest

MANIFEST = media_types.OCI_MANIFEST


@dataclass
class Pushed:
    repository: str
    image: str
    tag: str
    manifest: bytes
    blobs: dict[str, bytes]


@dataclass
class SoakResult:
    expected: dict[tuple[str, str, str], Pushed] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    pushes: int = 0
    promotions: int = 0
    gc_runs: int = 0
    gc_outputs: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def push_blob(session, base: str, name: str, data: bytes, *, chunked: bool) -> None:
    digest = digest_of(data)
    head = session.head(f"{base}/v2/{name}/blobs/{digest}")
    if head.status_code == 200:
        return
    start = session.post(f"{base}/v2/{name}/blobs/uploads/")
    assert start.status_code == 202, (start.status_code, start.text)
    location = start.headers["Location"]
    if chunked:
        offset = 0
        for size in (7, 1000, 3):
            piece = data[offset : offset + size]
            if not piece:
                break
            response = session.patch(
                _abs(base, location),
                data=piece,
                headers={
                    "Content-Type": "application/octet-stream",
                    "Content-Range": f"{offset}-{offset + len(piece) - 1}",
                },
            )
            assert response.status_code == 202, (response.status_code, response.text)
            location, offset = response.headers["Location"], offset + len(piece)
        rest = data[offset:]
    else:
        rest = data
    sep = "&" if "?" in location else "?"
    done = session.put(
        f"{_abs(base, location)}{sep}digest={digest}", data=rest, headers={"Content-Type": "application/octet-stream"}
    )
    assert done.status_code == 201, (done.status_code, done.text)


def _abs(base: str, location: str) -> str:
    return location if location.startswith("http") else base + location


def make_image(shared_layers: list[bytes], rng: random.Random, tag: str) -> tuple[bytes, dict[str, bytes]]:
    """A manifest of one shared layer and one of its own, its config naming the push (so it is its own too)."""
    unique = os.urandom(64) + tag.encode()
    layers = [rng.choice(shared_layers), unique]
    config = image_config(history=[{"created_by": f"soak push {tag}"}])
    manifest = image_manifest(config=config, layers=layers, oci=True)
    return manifest, {digest_of(b): b for b in [config, *layers]}


def pusher(base, auth, result: SoakResult, stop: threading.Event, worker: int, shared_layers) -> None:
    rng = random.Random(worker)
    session = requests.Session()
    session.auth = auth
    name = f"docker-local/soak-{worker}"
    i = 0
    while not stop.is_set():
        i += 1
        tag = f"t{i % 6}"  # tags are overwritten again and again: the old manifests become garbage
        manifest, blobs = make_image(shared_layers, rng, f"{worker}-{i}")
        try:
            for data in blobs.values():
                push_blob(session, base, name, data, chunked=rng.random() < 0.5)
            response = session.put(
                f"{base}/v2/{name}/manifests/{tag}", data=manifest, headers={"Content-Type": MANIFEST}
            )
            assert response.status_code == 201, (response.status_code, response.text)
        except AssertionError as exc:
            with result.lock:
                result.failures.append(f"push {name}:{tag}: {exc}")
            continue
        with result.lock:
            result.pushes += 1
            result.expected[("docker-local", f"soak-{worker}", tag)] = Pushed(
                "docker-local", f"soak-{worker}", tag, manifest, blobs
            )
        if rng.random() < 0.2:  # and some tags are deleted
            with result.lock:
                result.expected.pop(("docker-local", f"soak-{worker}", tag), None)
            session.delete(f"{base}/v2/{name}/manifests/{tag}")


def promoter(base, auth, result: SoakResult, stop: threading.Event, workers: int) -> None:
    rng = random.Random(99)
    session = requests.Session()
    session.auth = auth
    n = 0
    while not stop.is_set():
        with result.lock:
            candidates = [p for k, p in result.expected.items() if k[0] == "docker-local"]
        if not candidates:
            stop.wait(0.2)  # the pushers have not pushed yet
            continue
        source = rng.choice(candidates)
        n += 1
        target_tag = f"p{n % 8}"
        response = session.post(
            f"{base}/api/docker/docker-local/v2/promote",
            json={
                "targetRepo": "docker-target",
                "dockerRepository": source.image,
                "tag": source.tag,
                "targetTag": target_tag,
                "copy": True,
            },
            timeout=120,
        )
        if response.status_code == 404:
            continue  # the tag was deleted by its pusher meanwhile
        if response.status_code != 200:
            with result.lock:
                result.failures.append(f"promote {source.image}:{source.tag}: {response.status_code} {response.text}")
            continue
        promoted = session.get(
            f"{base}/v2/docker-target/{source.image}/manifests/{target_tag}", headers={"Accept": MANIFEST}
        )
        if promoted.status_code != 200:
            with result.lock:
                result.failures.append(f"promoted {source.image}:{target_tag} does not pull: {promoted.status_code}")
            continue
        with result.lock:  # the source tag may have moved meanwhile: expect what the target got
            result.promotions += 1
            result.expected[("docker-target", source.image, target_tag)] = Pushed(
                "docker-target", source.image, target_tag, promoted.content, {}
            )


def collector(run_gc, result: SoakResult, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            output = run_gc()
        except Exception as exc:  # noqa: BLE001 - recorded as a failure
            with result.lock:
                result.failures.append(f"gc: {exc}")
            continue
        with result.lock:
            result.gc_runs += 1
            result.gc_outputs.append(output)


def soak(base: str, auth, run_gc, *, seconds: float, pushers: int = 2) -> SoakResult:
    result = SoakResult()
    stop = threading.Event()
    shared_layers = [os.urandom(2048) for _ in range(3)]

    threads = [
        threading.Thread(target=pusher, args=(base, auth, result, stop, w, shared_layers)) for w in range(pushers)
    ]
    threads.append(threading.Thread(target=promoter, args=(base, auth, result, stop, pushers)))
    threads.append(threading.Thread(target=collector, args=(run_gc, result, stop)))
    for thread in threads:
        thread.start()
    time.sleep(seconds)  # the load itself: it runs this long
    stop.set()
    for thread in threads:
        thread.join(timeout=300)
    return result


def verify(base: str, auth, result: SoakResult) -> list[str]:
    """Every expected tag pulls its exact manifest bytes and every blob hashes to its digest."""
    session = requests.Session()
    session.auth = auth
    problems = []
    for (repository, image, tag), pushed in sorted(result.expected.items()):
        name = f"{repository}/{image}"
        response = session.get(f"{base}/v2/{name}/manifests/{tag}", headers={"Accept": MANIFEST})
        if response.status_code != 200 or response.content != pushed.manifest:
            problems.append(f"{name}:{tag} manifest {response.status_code}")
            continue
        body = json.loads(response.content)
        for descriptor in [body["config"], *body["layers"]]:
            data = session.get(f"{base}/v2/{name}/blobs/{descriptor['digest']}").content
            if digest_of(data) != descriptor["digest"]:
                problems.append(f"{name}:{tag} blob {descriptor['digest']} does not pull byte-identical")
            elif descriptor["digest"] in pushed.blobs and pushed.blobs[descriptor["digest"]] != data:
                problems.append(f"{name}:{tag} blob {descriptor['digest']} differs from what was pushed")
    return problems
