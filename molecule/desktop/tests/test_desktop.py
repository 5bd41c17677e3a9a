"""The desktop phases on a Wayland laptop with an Intel iGPU, direct backend: the owned keys are in the user's own
rc files (read back with the real kreadconfig5), the keys the user had are still there, and their previous values
are recorded."""
from __future__ import annotations

import json
import os
import tomllib

HOME = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "build", "instance", "home", "mitsio")
CONFIG = os.path.join(HOME, ".config")


def kread(host, name, group, key):
    cmd = host.run("QT_QPA_PLATFORM=offscreen XDG_CONFIG_HOME=%s kreadconfig5 --file %s --group %s --key %s",
                   CONFIG, os.path.join(CONFIG, name), group, key)
    assert cmd.rc == 0, cmd.stderr
    return cmd.stdout.rstrip("\n")


def test_kwin_keys_for_an_intel_igpu_on_wayland(host):
    assert kread(host, "kwinrc", "Compositing", "Backend") == "OpenGL"
    assert kread(host, "kwinrc", "Plugins", "blurEnabled") == "true"
    assert kread(host, "kwinrc", "Plugins", "wobblywindowsEnabled") == "false"
    assert kread(host, "kdeglobals", "KDE", "AnimationDurationFactor") == "0.5"
    text = host.file(os.path.join(CONFIG, "kwinrc")).content_string
    assert "WindowsBlockCompositing" not in text and "MaxFPS" not in text and "XRender" not in text


def test_the_users_own_keys_stay(host):
    assert kread(host, "kwinrc", "Compositing", "GLCore") == "true"
    assert kread(host, "kwinrc", "Compositing", "LatencyPolicy") == "Low"
    assert "# set by the distribution" in host.file(os.path.join(CONFIG, "kwinrc")).content_string


def test_baloo_tuned_and_autostart_hidden_on_a_workstation(host):
    assert kread(host, "baloofilerc", "General", "only basic indexing") == "true"
    assert kread(host, "baloofilerc", "Basic Settings", "Indexing-Enabled") == ""
    assert kread(host, "autostart/org.kde.kdeconnect.daemon.desktop", "Desktop Entry", "Hidden") == "true"


def test_the_previous_values_are_recorded(host):
    record = json.loads(host.file(os.path.join(HOME, ".local/state/nixperf/owned-keys.json")).content_string)
    originals = {(tuple(k["group"]), k["key"]): k["original"] for k in record["keys"] if k["file"] == ".config/kwinrc"}
    assert originals[(("Compositing",), "GLTextureFilter")] == "2"
    assert originals[(("Plugins",), "blurEnabled")] == "false"
    assert originals[(("Plugins",), "slideEnabled")] is None
    assert host.file(os.path.join(HOME, ".local/state/nixperf/owned-keys.json")).mode == 0o600


def test_rustdesk_on_an_intel_igpu_uses_its_hardware_codecs(host):
    server = tomllib.loads(host.file(os.path.join(CONFIG, "rustdesk", "RustDesk2.toml")).content_string)
    assert server["options"]["enable-hwcodec"] == "Y" and server["options"]["direct-server"] == "Y"
    viewer = tomllib.loads(host.file(os.path.join(CONFIG, "rustdesk", "RustDesk_default.toml")).content_string)
    assert viewer["options"]["codec-preference"] == "h265"  # as a viewer it decodes HEVC in hardware
    module = host.file(os.path.join(HOME, "..", "..", "etc", "nixos", "nixperf", "rustdesk.nix")).content_string
    assert "rustdesk-flutter" in module and "--service" in module
