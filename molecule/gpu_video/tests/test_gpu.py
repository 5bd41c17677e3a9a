"""The generated video module for an Intel gen 9 GPU: iHD only, found by libva itself; no NVIDIA settings, no
VDPAU variable."""
from __future__ import annotations

import json
import os

BUILD = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "build", "instance", "etc", "nixos", "nixperf")
LIB = "{ mkOption = x: x; types.bool = null; mkIf = c: v: v; mkOverride = p: v: v; }"
PKGS = '{ intel-media-driver = "ihd"; intel-vaapi-driver = "i965"; libvdpau-va-gl = "va-gl"; }'


def test_module_evaluates_to_the_intel_driver(host):
    path = os.path.join(BUILD, "gpu_video.nix")
    text = host.file(path).content_string
    assert "nvidia" not in text and "VDPAU_DRIVER" not in text and "LIBVA_DRIVER_NAME" not in text
    assert "enable = lib.mkOverride 75 true;" in text
    expr = "(import %s { config.nixperf.gpu_video.enable = true; pkgs = %s; lib = %s; }).config" % (path, PKGS, LIB)
    cmd = host.run("NIX_REMOTE=dummy:// nix-instantiate --eval --strict --json -E %s", expr)
    assert cmd.rc == 0, cmd.stderr
    config = json.loads(cmd.stdout)
    assert config == {"hardware": {"graphics": {"enable": True, "enable32Bit": True, "extraPackages": ["ihd"]}}}
