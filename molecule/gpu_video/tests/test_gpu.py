"""The generated video module for an Intel gen 9 GPU: iHD, no NVIDIA settings."""
from __future__ import annotations

import json
import os

BUILD = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "build", "instance", "etc", "nixos", "nixperf")
LIB = "{ mkOption = x: x; types.bool = null; mkIf = c: v: v; }"
PKGS = '{ intel-media-driver = "ihd"; libvdpau-va-gl = "va-gl"; }'


def test_module_evaluates_to_the_intel_drivers(host):
    path = os.path.join(BUILD, "gpu_video.nix")
    text = host.file(path).content_string
    assert "nvidia" not in text
    expr = "(import %s { config.nixperf.gpu_video.enable = true; pkgs = %s; lib = %s; }).config" % (path, PKGS, LIB)
    cmd = host.run("NIX_REMOTE=dummy:// nix-instantiate --eval --strict --json -E %s", expr)
    assert cmd.rc == 0, cmd.stderr
    config = json.loads(cmd.stdout)
    assert config["hardware"]["graphics"]["extraPackages"] == ["ihd", "va-gl"]
    assert config["environment"]["variables"]["LIBVA_DRIVER_NAME"] == "iHD"
    assert "boot" not in config
