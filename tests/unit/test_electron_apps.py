"""electron_apps: the wrappers evaluate to scripts that, run by bash, start the app in a limited scope, with the
Chromium flags the app's kind reads and that today's Chromium understands."""
from __future__ import annotations

import json
import os
import re
import stat
import subprocess
from pathlib import Path

import pytest
from ansible_collections.nixperf.tuning.plugins.module_utils import chromium as C
from ansible_collections.nixperf.tuning.plugins.module_utils.phases import electron_apps as E
from ansible_collections.nixperf.tuning.plugins.module_utils.nix import nix_module
from ansible_collections.nixperf.tuning.plugins.module_utils.phase import PhaseError, build

README = Path(__file__).resolve().parents[2] / "roles/electron_apps/README.md"
SHOSHIN = {"gpu": {"vendor": "nvidia"}, "memory": {"total_mib": 16384}, "cpu": {"threads": 8}}
KENSHO = {"gpu": {"vendor": "amd"}, "memory": {"total_mib": 32768}, "cpu": {"threads": 16}}
VM = {"gpu": {"vendor": "none"}, "memory": {"total_mib": 16384}, "cpu": {"threads": 8}}
LIB = """{ mkOption = x: x; types.bool = null; mkIf = c: v: v; hiPrio = x: x // { hiPrio = true; };
  getExe' = p: b: "${p}/bin/${b}"; concatStringsSep = builtins.concatStringsSep;
  concatMapStrings = f: l: builtins.concatStringsSep "" (map f l); }"""

# Fake programs: each appends what it saw to $LOG as one JSON line, then runs what follows its options.  The fake
# systemd-run carries systemd 254+'s behaviour: without --expand-environment=no it expands $VAR and ${VAR} in the
# command it runs (also in --scope mode) and turns $$ into $; like the real one in --scope mode, it execs the command
# itself, so the command inherits the caller's environment.
FAKE = {
    "systemd-run": r'''import json, os, re, sys
args = sys.argv[1:]
open(os.environ["LOG"], "a").write(json.dumps(["systemd-run"] + args) + "\n")
rest = args[args.index("--") + 1:]
if "--expand-environment=no" not in args[:args.index("--")]:
    def expand(word):
        return re.sub(r"\$\$|\$\{(\w+)\}|\$(\w+)",
                      lambda m: "$" if m.group(0) == "$$" else os.environ.get(m.group(1) or m.group(2), ""), word)
    rest = [rest[0]] + [expand(w) for w in rest[1:]]
os.execv(rest[0], rest)
''',
    "choom": 'import json, os, sys\nargs = sys.argv[1:]\nopen(os.environ["LOG"], "a").write(json.dumps(["choom"] + '
             'args) + "\\n")\nrest = args[args.index("--") + 1:]\nos.execv(rest[0], rest)\n',
    "app": 'import json, os, sys\nopen(os.environ["LOG"], "a").write(json.dumps({"argv": [os.path.basename('
           'sys.argv[0])] + sys.argv[1:], "qt": os.environ.get("QTWEBENGINE_CHROMIUM_FLAGS")}) + "\\n")\n',
}


class Chromium:
    """What a Chromium of one milestone makes of its command line, for VA-API video decoding on Linux.

    The upstream behaviour it carries: a repeated switch keeps its last value (base/command_line.h); unknown feature
    names are ignored; the names are those of media/base/media_switches.cc before (M130) and after (M131) the rename;
    media/mojo/services/gpu_mojo_media_client_linux.cc picks a decoder only with AcceleratedVideoDecoder, and on the GL
    path only with AcceleratedVideoDecodeLinuxGL; Vulkan compositing needs VulkanFromANGLE and DefaultANGLEVulkan or
    it gets no decoder; media/gpu/vaapi/vaapi_wrapper.cc skips the nvidia-drm device without VaapiOnNvidiaGPUs;
    ui/gl/gl_switches.cc knows no GL implementation called "desktop".
    """

    NAMES = {130: {"decoder": "VaapiVideoDecoder", "gl": "VaapiVideoDecodeLinuxGL"},
             131: {"decoder": "AcceleratedVideoDecoder", "gl": "AcceleratedVideoDecodeLinuxGL"}}
    KNOWN = {"VaapiOnNvidiaGPUs", "Vulkan", "VulkanFromANGLE", "DefaultANGLEVulkan", "VaapiIgnoreDriverChecks",
             "AcceleratedVideoEncoder", "VaapiVideoEncoder", "AcceleratedVideoDecodeLinuxZeroCopyGL",
             "CanvasOopRasterization"}

    def __init__(self, milestone: int) -> None:
        self.names = self.NAMES[130 if milestone <= 130 else 131]

    def decodes(self, argv, vendor: str) -> bool:
        switches = {}
        for word in argv:
            key, _sep, value = word.partition("=")
            switches[key] = value  # the last one wins
        features = set(switches.get("--enable-features", "").split(",")) & (self.KNOWN | set(self.names.values()))
        if switches.get("--use-gl") == "desktop":
            return False  # no such GL implementation: the GPU process runs in software
        if self.names["decoder"] not in features:
            return False
        if vendor == "nvidia" and "VaapiOnNvidiaGPUs" not in features:
            return False
        if "Vulkan" in features:
            return {"VulkanFromANGLE", "DefaultANGLEVulkan"} <= features and switches.get("--use-angle") == "vulkan"
        return self.names["gl"] in features


def evaluate(nix, tmp_path, plan, packages):
    """The module's home.packages as {name, cmd, hiPrio, script} with fake store paths under tmp_path."""
    path = tmp_path / "electron_apps.nix"
    path.write_text(nix_module("electron_apps", plan.home_config)[0])
    assert nix.parses(path)
    pkgs = " ".join('%s = "%s/%s";' % (p, tmp_path, p) for p in ["systemd", "util-linux"] + packages)
    expr = ("let pkgs = { %s writeShellScript = n: t: { __toString = s: \"/S/\" + n; name = n; text = t; };"
            " runCommand = n: e: c: e // { name = n; cmd = c; }; }; m = (import %s { config.nixperf.electron_apps"
            ".enable = true; inherit pkgs; lib = %s; }).config; in map (p: { inherit (p) name cmd hiPrio;"
            " script = p.passthru.script.text; }) (m.home.packages or [ ])" % (pkgs, path, LIB))
    return nix.eval_json(expr)


def fake_bin(tmp_path, package, binary, kind):
    bindir = tmp_path / package / "bin"
    bindir.mkdir(parents=True, exist_ok=True)
    exe = bindir / binary
    exe.write_text("#!/usr/bin/env python3\n" + FAKE[kind])
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)


def launch(tmp_path, script, *args, env=None):
    log = tmp_path / "log.jsonl"
    log.unlink(missing_ok=True)
    wrapper = tmp_path / "wrapper.sh"
    wrapper.write_text("#!/usr/bin/env bash\n" + script + "\n")
    environ = {k: v for k, v in os.environ.items() if k != "QTWEBENGINE_CHROMIUM_FLAGS"}
    environ.update(env or {}, LOG=str(log))
    subprocess.run(["bash", str(wrapper)] + list(args), check=True, env=environ)
    return [json.loads(line) for line in log.read_text().splitlines()]


def run_app(nix, tmp_path, plan, package, binary, *args, env=None):
    """Evaluate the plan's only wrapper and run it with the fakes: (systemd-run argv, app's {argv, qt})."""
    (pkg,) = evaluate(nix, tmp_path, plan, [package])
    fake_bin(tmp_path, "systemd", "systemd-run", "systemd-run")
    fake_bin(tmp_path, "util-linux", "choom", "choom")
    fake_bin(tmp_path, package, binary, "app")
    run, _choom, app = launch(tmp_path, pkg["script"], *args, env=env)
    return pkg, run, app


def test_nvidia_x11_wrapper_runs_the_app_in_a_limited_scope(nix, tmp_path):
    plan = build("electron_apps", "shoshin", {"session": "x11", "apps": ["discord"]}, SHOSHIN)
    assert plan.config is None  # home-manager only
    pkg, run, app = run_app(nix, tmp_path, plan, "discord", "Discord", "--arg with space", "x")
    assert pkg["hiPrio"] is True and pkg["name"] == "nixperf-electron-discord"
    # the same script under the app's name and the real binary name
    assert pkg["cmd"] == "mkdir -p $out/bin\nln -s /S/nixperf-discord $out/bin/discord\n" \
                         "ln -s /S/nixperf-discord $out/bin/Discord\n"
    unit = run[6]
    assert run[:6] == ["systemd-run", "--user", "--scope", "--quiet", "--collect", "--expand-environment=no"]
    assert re.fullmatch(r"--unit=app-discord-[0-9]+-[0-9]{10}", unit)  # a valid unit name: PID and time
    assert run[7:] == ["--description=discord (nixperf.tuning electron_apps)", "-p", "MemoryHigh=2G",
                       "-p", "MemoryMax=3G", "-p", "CPUQuota=150%", "--",
                       "%s/util-linux/bin/choom" % tmp_path, "-n", "300", "--",
                       "%s/discord/bin/Discord" % tmp_path] + app["argv"][1:]
    heap = ["--js-flags=--max-old-space-size=1024"]
    assert app["argv"] == ["Discord"] + C.gpu_flags("nvidia", "x11") + heap + ["--arg with space", "x"]
    assert app["qt"] is None  # an Electron app reads its command line, not Qt's variable
    assert "--use-gl=desktop" not in app["argv"]  # Chromium 118+ no longer accepts it
    assert Chromium(131).decodes(app["argv"], "nvidia") and Chromium(130).decodes(app["argv"], "nvidia")
    # unique per launch: the unit name carries the launching shell's PID
    again = launch(tmp_path, pkg["script"])[0][6]
    assert again != unit


def test_arguments_reach_the_app_verbatim(nix, tmp_path):
    """systemd-run would expand $HOME in the app's arguments without --expand-environment=no."""
    plan = build("electron_apps", "shoshin", {"session": "x11", "apps": ["obsidian"]}, SHOSHIN)
    _pkg, _run, app = run_app(nix, tmp_path, plan, "obsidian", "obsidian", "$HOME/${USER}.md", "a$$b",
                              env={"HOME": "/home/h", "USER": "u"})
    assert app["argv"][-2:] == ["$HOME/${USER}.md", "a$$b"]


def test_the_plans_flags_decode_nothing_on_todays_chromium():
    """The bug: the plan's names and its Vulkan feature leave today's Chromium without hardware decoding."""
    plan = ["--use-gl=desktop", "--enable-features=VaapiVideoDecoder,VaapiIgnoreDriverChecks,Vulkan,"
            "CanvasOopRasterization", "--enable-gpu-rasterization", "--ozone-platform=x11"]
    assert not Chromium(131).decodes(plan, "nvidia")
    released = ["--ozone-platform=x11", "--use-gl=angle", "--use-angle=gl",
                "--enable-features=VaapiVideoDecoder,VaapiVideoDecodeLinuxGL,VaapiIgnoreDriverChecks,Vulkan"]
    assert not Chromium(131).decodes(released, "amd") and not Chromium(130).decodes(released, "amd")
    for vendor in C.GPU_VENDORS:
        for session in C.SESSIONS:
            for kind in C.CHROMIUM_KINDS:
                words = C.gpu_flags(vendor, session, kind)
                assert Chromium(131).decodes(words, vendor), (vendor, session, kind)
                assert Chromium(130).decodes(words, vendor), (vendor, session, kind)


def test_flag_table():
    names = [f.name for f in C.FLAGS]
    assert len(names) == len(set(names))
    for f in C.FLAGS:
        assert f.source and f.milestone and f.why, f.name
        assert set(f.sessions) <= set(C.SESSIONS) and set(f.vendors) <= set(C.GPU_VENDORS)
        assert set(f.kinds) <= set(C.CHROMIUM_KINDS)
        assert f.feature == (not f.name.startswith("--")), f.name
        assert f.name not in C.DROPPED
        if f.replaced_by:  # an old name is written only next to its new one
            new = next(g for g in C.FLAGS if g.name == f.replaced_by)
            assert (f.sessions, f.vendors, f.kinds) == (new.sessions, new.vendors, new.kinds)
    for vendor in C.GPU_VENDORS:
        for session in C.SESSIONS:
            for kind in C.CHROMIUM_KINDS:
                words = C.gpu_flags(vendor, session, kind)
                (features,) = [w[len("--enable-features="):].split(",") for w in words
                               if w.startswith("--enable-features=")]
                assert {"AcceleratedVideoDecoder", "AcceleratedVideoDecodeLinuxGL",
                        "AcceleratedVideoEncoder"} <= set(features)
                assert ("VaapiOnNvidiaGPUs" in features) == (vendor == "nvidia")
                assert not set(C.DROPPED) & set(features) and not set(C.DROPPED) & set(words)
                assert all(w.startswith("--") for w in words)
    assert C.gpu_flags("none", "x11") == C.gpu_flags("none", "wayland") == []
    assert C.gpu_flags("amd", "x11", "native") == []


def test_gpu_flags_per_vendor_session_and_kind():
    nvidia = C.gpu_flags("nvidia", "x11")
    assert nvidia[:3] == ["--ozone-platform=x11", "--use-gl=angle", "--use-angle=gl"]
    assert "--enable-native-gpu-memory-buffers" in nvidia and "--enable-hardware-overlays" not in nvidia
    amd = C.gpu_flags("amd", "x11")
    assert "--ozone-platform=x11" in amd and "--enable-native-gpu-memory-buffers" not in amd
    assert C.gpu_flags("intel", "x11") == amd
    wayland = C.gpu_flags("amd", "wayland")
    assert "--ozone-platform=wayland" in wayland and "--ozone-platform=x11" not in wayland
    assert "--use-gl=angle" not in wayland and "WaylandWindowDecorations" in wayland[-1]
    assert "AcceleratedVideoDecodeLinuxZeroCopyGL" in wayland[-1]
    # CEF: Chromium switches, without Electron's own window-decoration feature
    cef = C.gpu_flags("amd", "wayland", "cef")
    assert "--ozone-platform=wayland" in cef and "WaylandWindowDecorations" not in cef[-1]
    # Qt WebEngine: Qt picks the windowing platform and GL, Chromium gets the rest
    qt = C.gpu_flags("nvidia", "wayland", "qt")
    assert qt[:2] == ["--enable-gpu-rasterization", "--ignore-gpu-blocklist"]
    assert not any(w.startswith(("--ozone", "--use-gl", "--use-angle", "--enable-wayland-ime")) for w in qt)
    assert "VaapiOnNvidiaGPUs" in qt[-1]


def test_merge_features_keeps_every_list():
    """Chromium reads the last --enable-features only: an app's own list would drop the VA-API features."""
    merged = C.merge_features(["--a", "--enable-features=X,Y", "--b=1", "--enable-features=Y,Z",
                               "--disable-features=Q", "--disable-features=R,Q"])
    assert merged == ["--a", "--enable-features=X,Y,Z", "--b=1", "--disable-features=Q,R"]
    assert C.merge_features(["--enable-features"]) == ["--enable-features"]  # no value: left as it is


def test_extra_enable_features_are_merged(nix, tmp_path):
    apps = [{"name": "vesktop", "package": "vesktop", "binary": "vesktop",
             "extra_flags": ["--enable-features=WebRTCPipeWireCapturer", "--force-dark-mode"]}]
    plan = build("electron_apps", "kensho", {"session": "wayland", "apps": apps}, KENSHO)
    _pkg, _run, app = run_app(nix, tmp_path, plan, "vesktop", "vesktop")
    features = [w for w in app["argv"] if w.startswith("--enable-features=")]
    assert len(features) == 1 and features[0].endswith(",WebRTCPipeWireCapturer")
    assert app["argv"][-1] == "--force-dark-mode"
    assert Chromium(131).decodes(app["argv"], "amd")


def test_vm_without_gpu_gets_no_gpu_flags(nix, tmp_path):
    plan = build("electron_apps", "vm", {"session": "x11", "apps": ["codium", "zoom"]}, VM)
    codium, zoom = evaluate(nix, tmp_path, plan, ["vscodium", "zoom-us"])
    assert "--ozone-platform" not in codium["script"] and "--js-flags=--max-old-space-size=2048" in codium["script"]
    assert codium["cmd"].count("ln -s") == 1  # codium's binary is codium: one command
    assert "QTWEBENGINE_CHROMIUM_FLAGS" not in zoom["script"] and "--js-flags" not in zoom["script"]
    assert plan.derived["gpu_flags"] == {"electron": [], "qt": []}


def test_qt_app_gets_the_flags_in_its_environment(nix, tmp_path):
    """zoom-us is a Qt application: QTWEBENGINE_CHROMIUM_FLAGS, no V8 heap switch, the scope all the same."""
    plan = build("electron_apps", "shoshin", {"session": "x11", "apps": ["zoom"]}, SHOSHIN)
    assert plan.derived["apps"]["zoom"]["kind"] == "qt" and plan.derived["apps"]["zoom"]["v8_heap_mib"] is None
    _pkg, run, app = run_app(nix, tmp_path, plan, "zoom-us", "zoom", "--url=zoommtg://x")
    assert "MemoryMax=4G" in run and "CPUQuota=250%" in run
    assert app["argv"] == ["zoom", "--url=zoommtg://x"]
    assert app["qt"] == " ".join(C.gpu_flags("nvidia", "x11", "qt"))
    assert Chromium(131).decodes(app["qt"].split(), "nvidia")
    # a value the user's environment already has comes after ours (the last --enable-features wins)
    _pkg, _run, app = run_app(nix, tmp_path, plan, "zoom-us", "zoom", env={"QTWEBENGINE_CHROMIUM_FLAGS": "--mine"})
    assert app["qt"] == " ".join(C.gpu_flags("nvidia", "x11", "qt") + ["--mine"])


def test_cef_app_gets_chromium_switches_and_a_heap(nix, tmp_path):
    """spotify is built on CEF, which reads Chromium switches and --js-flags from its command line."""
    plan = build("electron_apps", "kensho", {"session": "wayland", "apps": ["spotify"]}, KENSHO)
    _pkg, _run, app = run_app(nix, tmp_path, plan, "spotify", "spotify")
    assert app["argv"] == ["spotify"] + C.gpu_flags("amd", "wayland", "cef") + ["--js-flags=--max-old-space-size=512"]
    assert app["qt"] is None


def test_native_app_gets_neither_flags_nor_environment(nix, tmp_path):
    apps = [{"name": "kate", "package": "kate", "binary": "kate", "kind": "native", "extra_flags": ["--new"]}]
    plan = build("electron_apps", "shoshin", {"session": "x11", "apps": apps}, SHOSHIN)
    _pkg, run, app = run_app(nix, tmp_path, plan, "kate", "kate", "notes.txt")
    assert app == {"argv": ["kate", "--new", "notes.txt"], "qt": None}
    assert "MemoryMax=3G" in run and "CPUQuota=150%" in run  # the scope and its limits all the same
    assert plan.derived["apps"]["kate"]["kind"] == "native" and plan.derived["gpu_flags"] == {}


def test_kinds_come_from_the_package_or_the_inventory():
    assert {n: E.kind_of(a["package"]) for n, a in E.KNOWN.items()} == {
        "discord": "electron", "signal": "electron", "teams": "electron", "codium": "electron", "zoom": "qt",
        "spotify": "cef", "obsidian": "electron", "claude": "electron"}
    apps = [{"name": "element", "package": "element-desktop", "binary": "element-desktop"},
            {"name": "player", "package": "spotify", "binary": "spotify"},
            {"name": "tool", "package": "some-tool", "binary": "tool"},
            {"name": "webapp", "package": "my-qt-app", "binary": "webapp", "kind": "qt"},
            {"name": "zoom", "kind": "native"}]
    derived = build("electron_apps", "kensho", {"session": "wayland", "apps": apps}, KENSHO).derived["apps"]
    assert {n: a["kind"] for n, a in derived.items()} == {
        "element": "electron", "player": "cef", "tool": "electron", "webapp": "qt", "zoom": "native"}
    assert derived["webapp"]["v8_heap_mib"] is None and derived["element"]["v8_heap_mib"] == 1024


def test_known_table_matches_the_plan():
    assert E.KNOWN["discord"]["binary"] == "Discord" and E.KNOWN["signal"]["binary"] == "signal-desktop"
    assert E.KNOWN["teams"]["package"] == "teams-for-linux" and E.KNOWN["codium"]["package"] == "vscodium"
    assert E.KNOWN["zoom"]["package"] == "zoom-us" and E.KNOWN["teams"]["memory_max"] == "4G"
    assert "v8_heap_mib" not in E.KNOWN["zoom"]  # a Qt application has no V8 heap switch


def test_readme_lists_every_flag_kind_and_dropped_name():
    readme = README.read_text()
    for row in C.readme_rows():
        assert row in readme, "README is missing the row:\n" + row
    for name in C.DROPPED:
        assert "`%s`" % name in readme, name
    for package, (kind, source) in E.PACKAGE_KINDS.items():
        assert "| `%s` | %s | %s |" % (package, kind, source) in readme, package


def test_custom_app_and_overrides(nix, tmp_path):
    apps = [{"name": "element", "package": "element-desktop", "binary": "element-desktop", "memory_high": "1.5G",
             "memory_max": "2G", "cpu_quota": 100, "v8_heap_mib": 768, "extra_flags": ["--force-dark-mode"]},
            {"name": "discord", "memory_max": "4G", "gpu": False, "oom_score_adjust": 500}]
    plan = build("electron_apps", "kensho", {"session": "wayland", "apps": apps}, KENSHO)
    element, discord = evaluate(nix, tmp_path, plan, ["element-desktop", "discord"])
    assert "MemoryHigh=1536M MemoryMax=2G" in element["script"].replace("-p ", "")
    assert "--ozone-platform=wayland" in element["script"] and element["script"].endswith("--force-dark-mode \"$@\"")
    assert "MemoryMax=4G" in discord["script"] and "-n 500" in discord["script"]
    assert "--ozone-platform" not in discord["script"]
    assert plan.derived["apps"]["element"]["commands"] == ["element", "element-desktop"]


def test_no_apps_is_inert():
    plan = build("electron_apps", "h", {"session": "x11"}, SHOSHIN)
    assert plan.home_config == {} and plan.derived["apps"] == {}


@pytest.mark.parametrize("apps,needle", [
    (["slack"], "electron_apps_apps[0] (slack) is not an app this role knows"),
    ([{"name": "slack", "binary": "slack"}], "give its nixpkgs attribute as package"),
    ([{"name": "Slack App", "package": "slack", "binary": "slack"}], "electron_apps_apps[0].name must be a lower-case"),
    ([{"name": "x", "package": 'a"; evil = "', "binary": "x"}], ".package must be a nixpkgs attribute path"),
    ([{"name": "x", "package": "x", "binary": "../bin/sh"}], ".binary must be an executable name"),
    ([{"name": "discord", "memory_high": "3G", "memory_max": "2G"}], "memory_high (3G) must not be above memory_max"),
    ([{"name": "discord", "memory_max": "20G"}], "memory_max (20G) is more than the host's RAM (16G)"),
    ([{"name": "discord", "v8_heap_mib": 4096}], "v8_heap_mib (4096 MiB heap) must be below memory_max (3G)"),
    ([{"name": "discord", "cpu_quota": 900}], "cpu_quota (900 %) is more than the host's 8 threads"),
    ([{"name": "discord", "oom_score_adjust": -100}], "must be 100 or more"),
    ([{"name": "discord", "memory_max": "3 GB"}], "memory_max must be a size"),
    ([{"name": "discord", "extra_flags": ["--a b"]}], "extra_flags must be a list of switches"),
    ([{"name": "discord", "extra_flags": ["$(rm -rf ~)"]}], "extra_flags must be a list of switches"),
    ([{"name": "discord", "colour": "red"}], "has unknown keys colour"),
    ([{"name": "discord", "gpu": "perhaps"}], ".gpu must be true or false"),
    (["discord", "discord"], "install discord twice"),
    ([{"name": "signal-desktop", "package": "x", "binary": "x"}, "signal"], "install signal-desktop twice"),
    ([42], "must be an app name or a mapping"),
    ("discord", "electron_apps_apps must be a list"),
    # the kind: the host, the variable, the value and the allowed values
    ([{"name": "x", "package": "x", "binary": "x", "kind": "flutter"}],
     "host shoshin: electron_apps_apps[0] (x).kind must be one of electron, cef, qt, native, got 'flutter'"),
    ([{"name": "discord", "kind": ["qt"]}], "(discord).kind must be one of electron, cef, qt, native, got ['qt']"),
    ([{"name": "discord", "kind": "$(reboot)"}], "kind must be one of electron, cef, qt, native, got '$(reboot)'"),
    ([{"name": "zoom", "v8_heap_mib": 512}],
     "electron_apps_apps[0] (zoom).v8_heap_mib applies only to apps of kind electron or cef: this app is kind qt"),
    ([{"name": "discord", "kind": "native", "v8_heap_mib": 512}], "this app is kind native, which reads no --js-flags"),
])
def test_checks(apps, needle):
    with pytest.raises(PhaseError) as err:
        build("electron_apps", "shoshin", {"session": "x11", "apps": apps}, SHOSHIN)
    assert needle in str(err.value)


def test_session_is_required():
    with pytest.raises(PhaseError) as err:
        build("electron_apps", "h", {"session": "", "apps": []}, SHOSHIN)
    assert "electron_apps_session must be one of x11, wayland" in str(err.value)
