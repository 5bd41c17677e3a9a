"""Wayland on an AMD GPU: wrappers for known Electron, Qt and CEF apps and a custom app, as a home-manager module."""
from __future__ import annotations

import json
import os

ROOT = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "build", "instance")
HOME = os.path.join(ROOT, "home/tester/.config/home-manager/nixperf")
LIB = ('{ mkOption = x: x; types.bool = null; mkIf = c: v: v; hiPrio = x: x; getExe\' = p: b: "${p}/bin/${b}";'
       ' concatStringsSep = builtins.concatStringsSep; concatMapStrings = f: l: builtins.concatStringsSep "" (map f l); }')
PKGS = ('{ systemd = "/systemd"; util-linux = "/util-linux"; signal-desktop = "/signal"; element-desktop = "/element";'
        ' zoom-us = "/zoom"; spotify = "/spotify";'
        ' writeShellScript = n: t: { __toString = s: "/S/" + n; text = t; };'
        ' runCommand = n: e: c: e // { name = n; cmd = c; }; }')


def packages(host):
    expr = ("map (p: { inherit (p) name cmd; script = p.passthru.script.text; }) (import %s { config.nixperf"
            ".electron_apps.enable = true; pkgs = %s; lib = %s; }).config.home.packages"
            % (os.path.join(HOME, "electron_apps.nix"), PKGS, LIB))
    cmd = host.run("NIX_REMOTE=dummy:// nix-instantiate --eval --strict --json -E %s", expr)
    assert cmd.rc == 0, cmd.stderr
    return json.loads(cmd.stdout)


def test_home_module_only(host):
    assert sorted(os.listdir(HOME)) == ["default.nix", "electron_apps.nix"]
    assert not host.file(os.path.join(ROOT, "etc/nixos/nixperf/electron_apps.nix")).exists


def test_wrappers(host):
    signal, zoom, spotify, element = packages(host)
    assert signal["cmd"].splitlines()[1:] == ["ln -s /S/nixperf-signal $out/bin/signal",
                                              "ln -s /S/nixperf-signal $out/bin/signal-desktop"]
    assert "-p MemoryHigh=1536M -p MemoryMax=2G -p CPUQuota=100%" in signal["script"]
    assert "/signal/bin/signal-desktop --ozone-platform=wayland" in signal["script"]
    assert "--unit=app-element-$$-$EPOCHSECONDS" in element["script"]
    assert "/element/bin/element-desktop" in element["script"]
    assert "--js-flags=--max-old-space-size=768" in element["script"]


def test_each_kind_gets_what_it_reads(host):
    signal, zoom, spotify, element = packages(host)
    # Electron: today's VA-API names next to the pre-M131 ones, no NVIDIA-only feature on an AMD GPU
    assert "AcceleratedVideoDecodeLinuxGL" in signal["script"] and "VaapiVideoDecodeLinuxGL" in signal["script"]
    assert "VaapiOnNvidiaGPUs" not in signal["script"] and "Vulkan" not in signal["script"]
    assert "--expand-environment=no" in signal["script"]
    # Qt (zoom-us): the switches in QTWEBENGINE_CHROMIUM_FLAGS, nothing on its command line, the scope all the same
    assert zoom["script"].startswith("QTWEBENGINE_CHROMIUM_FLAGS='--enable-gpu-rasterization ")
    assert "--js-flags" not in zoom["script"] and "--ozone-platform" not in zoom["script"]
    assert zoom["script"].endswith('/zoom/bin/zoom "$@"') and "-p MemoryMax=4G" in zoom["script"]
    # CEF (spotify): Chromium switches and a V8 heap on its command line, not Electron's own decorations feature
    assert "/spotify/bin/spotify --ozone-platform=wayland" in spotify["script"]
    assert "--js-flags=--max-old-space-size=512" in spotify["script"]
    assert "WaylandWindowDecorations" not in spotify["script"] and "WaylandWindowDecorations" in element["script"]
