import json

import pytest

from repos.oci.image_config import (
    HistoryEntry,
    ImageConfig,
    layer_history,
    parse_image_config,
)

from .samples import DOCKER_CONFIG, d, dumps


def test_parse_docker_config():
    cfg = parse_image_config(dumps(DOCKER_CONFIG))
    assert (cfg.os, cfg.architecture, cfg.variant) == ("linux", "arm", "v7")
    assert cfg.platform_label == "linux/arm/v7"
    assert cfg.created == "2024-02-03T04:05:06.123456789Z"
    assert cfg.entrypoint == ["/docker-entrypoint.sh"]
    assert cfg.cmd == ["nginx", "-g", "daemon off;"]
    assert cfg.env == ["PATH=/usr/local/bin:/usr/bin", "LANG=C.UTF-8"]
    assert cfg.labels == {"maintainer": "team@example.com"}
    assert cfg.user == "app"
    assert cfg.working_dir == "/srv"
    assert cfg.exposed_ports == ["443/tcp", "80/tcp"]
    assert cfg.rootfs_diff_ids == [d("diff1"), d("diff2"), d("diff3")]
    assert len(cfg.history) == 6
    assert cfg.history[1].empty_layer is True
    assert cfg.history[3].comment == "buildkit.dockerfile.v0"


@pytest.mark.parametrize(
    "raw",
    [b"{}", b"", b"not json", b"[1, 2]", b"null", b"\xff\xfe", b'{"config": 5, "history": "x"}'],
)
def test_non_image_configs_are_empty(raw):
    cfg = parse_image_config(raw)
    assert cfg == ImageConfig()
    assert cfg.platform_label is None


def test_mistyped_fields_are_dropped():
    raw = json.dumps(
        {
            "os": 1,
            "architecture": "amd64",
            "config": {"Cmd": "sh", "Env": ["A=1", 2], "Labels": {"a": "b", "n": 1}},
            "history": [{"created_by": 5, "empty_layer": "yes"}, "junk"],
            "rootfs": {"diff_ids": "x"},
        }
    ).encode()
    cfg = parse_image_config(raw)
    assert cfg.os is None and cfg.architecture == "amd64"
    assert cfg.cmd is None and cfg.env == []
    assert cfg.labels == {"a": "b"}
    assert cfg.history == [HistoryEntry(created_by=None, empty_layer=False)]
    assert cfg.rootfs_diff_ids == []


def test_layer_history_skips_empty_layers():
    cfg = parse_image_config(dumps(DOCKER_CONFIG))
    mapped = layer_history(cfg, 3)
    assert [h.created_by if h else None for h in mapped] == [
        "ADD rootfs.tar.xz /",
        "RUN apk add nginx",
        "COPY site /srv",
    ]


def test_layer_history_missing_and_surplus():
    cfg = parse_image_config(dumps(DOCKER_CONFIG))
    assert layer_history(cfg, 5)[3:] == [None, None]
    assert [h.created_by for h in layer_history(cfg, 1)] == ["ADD rootfs.tar.xz /"]
    assert layer_history(cfg, 0) == []
    assert layer_history(None, 2) == [None, None]
    assert layer_history(ImageConfig(), 2) == [None, None]
