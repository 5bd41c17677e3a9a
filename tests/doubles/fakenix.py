#!/usr/bin/env python
"""Test double for nixos-rebuild, home-manager, nix, nix-env, systemctl, systemd-run, chezmoi, dbus-send,
runuser, and (captured outputs) vainfo, systemd-analyze and nvidia-smi.

These programs cannot run on a machine without NixOS.  The double simulates
them faithfully enough for the apply engine: generations are symlinks in a
temporary root, a system is a directory in a fake store whose name is a hash of
the configuration it was built from, and every invocation is recorded.

Environment:
  NIXPERF_FAKE_ROOT   the temporary root (required): nix/store, run/current-system,
                      nix/var/nix/profiles/system-N-link, home/<user>/..., calls.jsonl
  FAKE_KERNEL         kernel version of systems built now (default 6.12.0)
  FAKE_PRESWITCH_FAIL 1: switch/test fail with "Pre-switch checks failed"
  FAKE_HM_ACTIVATION_FAIL 1: home-manager switch fails after the new generation is linked
A file in the configuration containing FAKE_EVAL_ERROR makes evaluation fail. A system built from a
configuration containing
  FAKE_UNITS_FAIL       activates, then switch-to-configuration exits 4 ("the following units failed"):
                        the profile and /run/current-system have moved
  FAKE_BOOTLOADER_FAIL  switch/boot: the profile moves, then the boot loader installation fails (exit 1)
                        before activation
  FAKE_PROFILE_FAIL     switch/boot: setting the profile fails (exit 1); nothing moves
nixos-rebuild then fails as nixos-rebuild-ng does (exit 1, naming the command and its exit status).
$ROOT/state/system-health (default "running"; "hang": no answer while it says so, 300 s at most) and $ROOT/state/units/<unit>
("active" when missing) answer systemctl; $ROOT/state/show/<unit> (KEY=VALUE lines) answers systemctl show.

nix build [--rebuild] [--option cores N] ... INSTALLABLE builds a derivation in the fake store, taking the seconds
$ROOT/state/build-seconds gives for N ("CORES SECONDS" lines); see build() for its failure modes.

Dry runs (nixos-rebuild dry-build, nix build --dry-run) print what Nix's printMissing prints: a few derivations
for an ordinary change, hundreds (glibc, gcc, ...) when the configuration overrides a bootstrap package
(prev.glibc.overrideAttrs, prev.xz.override, ...), nothing when the result is already built.

chezmoi apply [--dry-run] --source S --destination D -- TARGET...: for each target, finds its source file in S by
chezmoi's naming rules (attribute prefixes, dot_, .tmpl) and, for a modify_ script, runs it with the target's contents
on stdin and writes its output (nothing is written with --dry-run); FAKE_NO_CHEZMOI=1 makes it absent (exit 127).
dbus-send records its call and fails when $ROOT/state/no-session-bus exists. runuser -u USER -- CMD... records and
runs CMD as the current user. systemctl start / stop of a service writes $ROOT/state/units/<unit>.

systemd-run --on-active=N --unit=U CMD... arms a real timer: a detached process that sleeps N seconds and then
runs CMD unless `systemctl stop U.timer` came first ($ROOT/state/timers/U.*: the timer, the log, the exit status).
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

ROOT = os.environ.get("NIXPERF_FAKE_ROOT")
STORE = os.path.join(ROOT or "/nonexistent", "nix", "store")
PROFILES = os.path.join(ROOT or "/nonexistent", "nix", "var", "nix", "profiles")
CURRENT = os.path.join(ROOT or "/nonexistent", "run", "current-system")
TIMERS = os.path.join(ROOT or "/nonexistent", "state", "timers")
DOUBLES = os.path.dirname(os.path.realpath(__file__))
ACTIVATION_FAILURES = {"FAKE_UNITS_FAIL": "units", "FAKE_BOOTLOADER_FAIL": "bootloader",
                       "FAKE_PROFILE_FAIL": "profile"}
# the tools a NixOS system has in <system>/sw/bin that the rollback script uses
SW_TOOLS = ("sh", "mkdir", "cp", "mv", "rm", "cat", "flock", "ln", "readlink")


def record(prog: str, argv: list) -> None:
    with open(os.path.join(ROOT, "calls.jsonl"), "a") as f:
        f.write(json.dumps({"prog": prog, "argv": argv, "cwd": os.getcwd()}) + "\n")


def die(msg: str, rc: int = 1) -> None:
    sys.stderr.write(msg + "\n")
    sys.exit(rc)


def opt(argv: list, name: str) -> str | None:
    if name in argv:
        i = argv.index(name)
        return argv[i + 1] if i + 1 < len(argv) else None
    return None


def config_source(argv: list) -> tuple[str, str]:
    """(directory of the configuration, host or user@host) from the command line."""
    flake = opt(argv, "--flake")
    if flake:
        path, _sep, attr = flake.partition("#")
        return path[len("path:"):] if path.startswith("path:") else path, attr or "default"
    for i, a in enumerate(argv):
        if a == "-I" and argv[i + 1].startswith("nixos-config="):
            return os.path.dirname(argv[i + 1].split("=", 1)[1]), "classic"
    if os.environ.get("NIXOS_CONFIG"):
        return os.path.dirname(os.environ["NIXOS_CONFIG"]), "classic"
    return os.path.join(ROOT, "etc", "nixos"), "classic"


def evaluate(directory: str) -> str:
    """Hash of every file below the configuration; fails like Nix on FAKE_EVAL_ERROR."""
    h = hashlib.sha256()
    if not os.path.isdir(directory):
        die("error: path '%s' does not exist" % directory)
    for dirpath, dirs, names in sorted(os.walk(directory)):
        dirs.sort()
        for n in sorted(names):
            if n.endswith("~"):
                continue  # backups are not part of the configuration
            p = os.path.join(dirpath, n)
            data = open(p, "rb").read()
            if b"FAKE_EVAL_ERROR" in data:
                die("error: undefined variable 'FAKE_EVAL_ERROR'\n\n       at %s:1:1:" % p)
            h.update(os.path.relpath(p, directory).encode() + b"\0" + data)
    h.update(os.environ.get("FAKE_KERNEL", "6.12.0").encode())
    return h.hexdigest()[:32]


def system_path(argv: list) -> str:
    directory, host = config_source(argv)
    return os.path.join(STORE, "%s-nixos-system-%s-26.05" % (evaluate(directory), host.replace("@", "-")))


def activation_failure(directory: str) -> str:
    """The activation failure the configuration asks for ("" for none)."""
    for text in config_texts(directory):
        for marker, mode in ACTIVATION_FAILURES.items():
            if marker in text:
                return mode
    return ""


def config_texts(directory: str) -> list:
    out = []
    for dirpath, dirs, names in sorted(os.walk(directory)):
        dirs.sort()
        for n in sorted(names):
            if not n.endswith("~"):
                with open(os.path.join(dirpath, n), "rb") as f:
                    out.append(f.read().decode("utf-8", "replace"))
    return out


def realise_system(out: str, failure: str = "") -> None:
    if os.path.isdir(out):
        return
    kernel = os.environ.get("FAKE_KERNEL", "6.12.0")
    kdir = os.path.join(STORE, hashlib.sha256(kernel.encode()).hexdigest()[:32] + "-linux-" + kernel)
    os.makedirs(kdir, exist_ok=True)
    for name in ("bzImage", "initrd"):
        open(os.path.join(kdir, name), "w").write(kernel)
    os.makedirs(out)
    os.symlink(os.path.join(kdir, "bzImage"), os.path.join(out, "kernel"))
    os.symlink(os.path.join(kdir, "initrd"), os.path.join(out, "initrd"))
    open(os.path.join(out, "kernel-params"), "w").write("loglevel=4")
    os.makedirs(os.path.join(out, "bin"))
    stc = os.path.join(out, "bin", "switch-to-configuration")
    with open(stc, "w") as f:
        f.write("#!/bin/sh\nexec '%s' '%s' switch-to-configuration '%s' \"$@\"\n"
                % (sys.executable, os.path.realpath(__file__), out))
    os.chmod(stc, 0o755)
    open(os.path.join(out, "nixos-version"), "w").write("26.05.20261101.abcdef0")
    if failure:
        open(os.path.join(out, "fake-activation-failure"), "w").write(failure)
    sw = os.path.join(out, "sw", "bin")
    os.makedirs(sw)
    for tool in SW_TOOLS:
        found = shutil.which(tool, path="/usr/bin:/bin")
        if found:
            os.symlink(found, os.path.join(sw, tool))
    os.symlink(os.path.join(DOUBLES, "nix-env"), os.path.join(sw, "nix-env"))


# ---------------------------------------------------------------- dry runs (Nix's printMissing)

BOOTSTRAP = {"glibc", "zlib", "xz", "bzip2", "pcre2", "gcc", "binutils"}
OVERRIDE = re.compile(r"\bprev\.([A-Za-z][A-Za-z0-9_'-]*)\.(?:overrideAttrs|override)\b|"
                      r"\brprev\.([A-Za-z][A-Za-z0-9_'-]*)\.overrideAttrs\b")
# attribute -> derivation name, as nixpkgs names them
DRV_NAMES = {
    "glibc": "glibc-2.40-66", "zlib": "zlib-1.3.1", "xz": "xz-5.6.3", "bzip2": "bzip2-1.0.8",
    "pcre2": "pcre2-10.44", "nodejs_24": "nodejs-24.11.0", "nodejs-slim_24": "nodejs-slim-24.11.0",
    "python313": "python3-3.13.9", "rustc-unwrapped": "rustc-1.91.0", "json_c": "json-c-0.18",
    "libjpeg_turbo": "libjpeg-turbo-3.0.4", "openssl": "openssl-3.4.0", "sqlite": "sqlite-3.47.2",
    "curl": "curl-8.11.1", "zstd": "zstd-1.5.6", "libxml2": "libxml2-2.13.5",
}
# what an overlay on a bootstrap package rebuilds: everything, from the compiler up
WORLD = [
    "glibc-2.40-66", "glibc-locales-2.40-66", "gcc-14.3.0", "gcc-wrapper-14.3.0", "binutils-2.44",
    "binutils-wrapper-2.44", "bash-5.2p37", "coreutils-9.7", "coreutils-full-9.7", "gnumake-4.4.1", "gnused-4.9",
    "gnugrep-3.11", "gawk-5.3.2", "gzip-1.14", "gnutar-1.35", "xz-5.6.3", "bzip2-1.0.8", "zlib-1.3.1",
    "pcre2-10.44", "patchelf-0.15.0", "perl-5.40.0", "python3-3.13.9", "openssl-3.4.0", "curl-8.11.1",
    "libxml2-2.13.5", "sqlite-3.47.2", "systemd-257.6", "util-linux-2.41", "dbus-1.14.10", "glib-2.84.1",
    "gtk3-3.24.49", "qtbase-6.9.0", "mesa-25.0.5", "llvm-19.1.7", "clang-19.1.7", "rustc-1.86.0",
    "cargo-1.86.0", "nodejs-22.15.0", "go-1.24.3", "linux-6.12.0", "openssh-10.0p2", "nix-2.28.3",
    "plasma-workspace-6.3.5", "kwin-6.3.5", "firefox-unwrapped-138.0.1", "ffmpeg-7.1.1", "pipewire-1.4.2",
    "networkmanager-1.52.0", "sudo-1.9.16p2", "shadow-4.17.4",
]
WORLD += ["python3.13-%s-1.0" % n for n in (
    "attrs", "certifi", "cffi", "charset-normalizer", "cryptography", "dbus-python", "idna", "jinja2",
    "markupsafe", "packaging", "pip", "pycparser", "pygobject", "pyyaml", "requests", "setuptools", "six",
    "urllib3", "wheel", "lxml")]
WORLD += ["python3.13-%s-1.0" % n for n in (
    "aiohttp", "aiosignal", "anyio", "babel", "bcrypt", "beautifulsoup4", "brotli", "cachetools", "click",
    "colorama", "decorator", "distro", "docutils", "filelock", "frozenlist", "h11", "httpcore", "httpx",
    "importlib-metadata", "iniconfig", "jsonschema", "mako", "msgpack", "multidict", "numpy", "pathspec",
    "pexpect", "pillow", "platformdirs", "pluggy", "psutil", "ptyprocess", "pygments", "pyparsing", "pytest",
    "python-dateutil", "pytz", "rich", "setuptools-scm", "sniffio", "soupsieve", "tomli", "tqdm",
    "typing-extensions", "wcwidth", "yarl", "zipp", "hatchling", "flit-core", "poetry-core", "cython",
    "meson-python", "pybind11", "scikit-build-core", "trove-classifiers", "editables", "calver", "toml")]
WORLD += ["qt6-%s-6.9.0" % n for n in (
    "qtdeclarative", "qtsvg", "qtwayland", "qttools", "qtmultimedia", "qtshadertools", "qt5compat",
    "qtimageformats", "qtsensors", "qtspeech", "qtwebchannel", "qtwebsockets", "qtpositioning", "qtlanguageserver",
    "qtquick3d", "qtnetworkauth", "qtconnectivity", "qtserialport", "qttranslations", "qtwebengine")]
WORLD += ["%s-1.0" % n for n in (
    "gobject-introspection", "gdk-pixbuf", "pango", "cairo", "harfbuzz", "freetype", "fontconfig", "pixman",
    "at-spi2-core", "libepoxy", "wayland", "wayland-protocols", "libinput", "libxkbcommon", "vulkan-loader",
    "spirv-tools", "glslang", "shaderc", "gstreamer", "gst-plugins-base", "gst-plugins-good", "gst-plugins-bad",
    "libva", "intel-media-driver", "nvidia-vaapi-driver", "pulseaudio", "alsa-lib", "bluez", "avahi", "cups",
    "polkit", "udisks", "upower", "accountsservice", "networkmanager-applet", "modemmanager", "wpa-supplicant",
    "iptables", "nftables", "iproute2", "kmod", "cryptsetup", "lvm2", "e2fsprogs", "btrfs-progs", "dosfstools",
    "grub", "systemd-boot", "efibootmgr", "fwupd", "sbctl", "tpm2-tss", "gnupg", "pinentry", "openldap",
    "cyrus-sasl", "krb5", "libkrb5", "pam", "libpwquality", "shadow-utils", "acl", "attr", "libselinux")]
WORLD += ["perl5.40.0-%s-1.0" % n for n in (
    "Encode-Locale", "File-Listing", "HTML-Parser", "HTTP-Cookies", "HTTP-Date", "HTTP-Message", "IO-HTML",
    "LWP-MediaTypes", "URI", "XML-Parser", "libwww-perl", "Net-HTTP", "TimeDate", "Try-Tiny", "FileSlurp")]
WORLD += ["kf6-%s-6.14.0" % n for n in (
    "karchive", "kauth", "kbookmarks", "kcodecs", "kcompletion", "kconfig", "kconfigwidgets", "kcoreaddons",
    "kcrash", "kdbusaddons", "kdeclarative", "kglobalaccel", "kguiaddons", "ki18n", "kiconthemes", "kio",
    "kitemviews", "kjobwidgets", "knotifications", "kpackage", "kservice", "ktextwidgets", "kwallet",
    "kwidgetsaddons", "kwindowsystem", "kxmlgui", "solid", "sonnet", "syntax-highlighting", "threadweaver")]
WORLD += ["xorg-%s-1.0" % n for n in (
    "libX11", "libXau", "libXcursor", "libXdmcp", "libXext", "libXfixes", "libXi", "libXinerama",
    "libXrandr", "libXrender", "libxcb", "libxkbfile", "libXtst", "libXcomposite", "libXdamage", "xcbutil")]
WORLD += ["lib%s-1.0" % n for n in (
    "drm", "ffi", "input", "seccomp", "cap", "gcrypt", "gpg-error", "unistring", "idn2", "psl", "ssh2",
    "nghttp2", "xkbcommon", "evdev", "wacom", "va", "vdpau", "pulseaudio", "sndfile", "vorbis", "ogg", "opus",
    "flac", "png", "jpeg-turbo", "tiff", "webp", "xslt", "yaml", "uv", "event", "sodium", "archive", "arch")]
WORLD = list(dict.fromkeys(WORLD))
WORLD_FETCH = ["glibc-2.40.tar.xz", "gcc-14.3.0.tar.xz", "binutils-2.44.tar.bz2", "linux-6.12.tar.xz",
               "llvm-project-19.1.7.src.tar.xz", "rustc-1.86.0-src.tar.gz", "source", "qtbase-everywhere-src-6.9.0.tar.xz"]


def _store_entry(name: str) -> str:
    return os.path.join(STORE, "%s-%s" % (hashlib.sha256(name.encode()).hexdigest()[:32], name))


def overridden(directory: str) -> list:
    """The package attributes the configuration's overlays override, in order of appearance."""
    seen = []
    for text in config_texts(directory):
        for m in OVERRIDE.finditer(text):
            name = m.group(1) or m.group(2)
            if name not in seen:
                seen.append(name)
    return seen


def print_missing(directory: str, kind: str, name: str) -> None:
    """What printMissing (src/libmain/shared.cc) prints for building the configuration in ``directory``."""
    attrs = overridden(directory)
    if kind == "nixos":
        drvs = ["etc", "system-path", "system-units", "dbus-1", "etc-sysctl.d-60-nixos.conf",
                "unit-systemd-sysctl.service", "nixos-system-%s-26.05" % name.replace("@", "-")]
    else:
        drvs = ["home-manager-files", "home-manager-path", "hm-session-vars.sh", "activation-script",
                "home-manager-generation"]
    for a in attrs:
        drv = DRV_NAMES.get(a, a.replace("_", "-") + "-1.0")
        if drv not in drvs:
            drvs.insert(0, drv)
    fetch = [("nixos-manual-html-26.05", 184320, 1153434)]
    if any(a in BOOTSTRAP for a in attrs):
        drvs = WORLD + [d for d in drvs if d not in WORLD]
        fetch = [(f, 40 * 1048576, 180 * 1048576) for f in WORLD_FETCH]
    lines = []
    lines.append("this derivation will be built:" if len(drvs) == 1 else
                 "these %d derivations will be built:" % len(drvs))
    lines += ["  %s.drv" % _store_entry(d) for d in drvs]
    download = sum(f[1] for f in fetch)
    unpacked = sum(f[2] for f in fetch)
    head = "this path will be fetched" if len(fetch) == 1 else "these %d paths will be fetched" % len(fetch)
    lines.append("%s (%s download, %s unpacked):" % (head, render_size(download), render_size(unpacked)))
    lines += ["  %s" % _store_entry(f[0]) for f in sorted(fetch)]
    print("\n".join(lines), file=sys.stderr)


def render_size(value: int) -> str:
    """Nix's renderSize (src/libutil/util.cc): the unit below which the value stays, one decimal, KiB at least."""
    unit, rest = 0, value
    while rest > 1024 and unit < 8:
        unit += 1
        rest //= 1024
    return "%.1f %siB" % (value / 1024.0 ** max(1, unit), " KMGTPEZY"[unit])


def home_generation_path(directory: str) -> str:
    return os.path.join(STORE, "%s-home-manager-generation" % evaluate(directory))


def generations(prefix: str) -> list:
    base = os.path.basename(prefix)
    d = os.path.dirname(prefix)
    out = []
    for n in os.listdir(d) if os.path.isdir(d) else []:
        if n.startswith(base + "-") and n.endswith("-link"):
            out.append(int(n[len(base) + 1:-5]))
    return sorted(out)


def add_generation(prefix: str, target: str) -> int:
    gens = generations(prefix)
    if gens and os.path.realpath("%s-%d-link" % (prefix, gens[-1])) == os.path.realpath(target):
        return gens[-1]
    n = (gens[-1] + 1) if gens else 1
    os.makedirs(os.path.dirname(prefix), exist_ok=True)
    os.symlink(target, "%s-%d-link" % (prefix, n))
    point(prefix, "%s-%d-link" % (os.path.basename(prefix), n))
    return n


def point(link: str, target: str) -> None:
    os.makedirs(os.path.dirname(link), exist_ok=True)
    tmp = link + ".tmp"
    if os.path.lexists(tmp):
        os.unlink(tmp)
    os.symlink(target, tmp)
    os.replace(tmp, link)


def nixos_rebuild(argv: list) -> None:
    action = next((a for a in argv if not a.startswith("-") and a in (
        "dry-build", "build", "test", "switch", "boot", "dry-activate", "list-generations")), None)
    if action is None:
        die("nixos-rebuild: unknown action in %s" % argv)
    prefix = os.path.join(PROFILES, "system")
    if action == "list-generations":
        cur = os.path.realpath(os.path.join(PROFILES, "system"))
        rows = [{"generation": g, "date": "2026-11-23 10:00:00", "nixosVersion": "26.05",
                 "kernelVersion": os.environ.get("FAKE_KERNEL", "6.12.0"),
                 "current": os.path.realpath("%s-%d-link" % (prefix, g)) == cur} for g in generations(prefix)]
        print(json.dumps(rows))
        return
    if "--rollback" in argv:
        gens = generations(prefix)
        cur = os.path.realpath(prefix)
        older = [g for g in gens if os.path.realpath("%s-%d-link" % (prefix, g)) != cur and
                 g < max(gens)]
        if not older:
            die("error: no generation older than the current one")
        prev = older[-1]
        target = os.path.realpath("%s-%d-link" % (prefix, prev))
        point(prefix, "system-%d-link" % prev)
        if action in ("switch", "test"):
            point(CURRENT, target)
        print("switching to generation %d" % prev, file=sys.stderr)
        return
    out = system_path(argv)
    directory, host = config_source(argv)
    print("building the system configuration...", file=sys.stderr)
    if action == "dry-build":
        if not os.path.isdir(out):
            print_missing(directory, "nixos", host)
        return
    realise_system(out, activation_failure(directory))
    if action == "build":
        point(os.path.join(os.getcwd(), "result"), out)
        print(out)
        return
    if action in ("switch", "test") and os.environ.get("FAKE_PRESWITCH_FAIL") == "1":
        die("Pre-switch checks failed")
    failure = read_failure(out)
    if action in ("switch", "boot"):
        if failure == "profile":
            die("error: writing to file: No space left on device\nCommand '['nix-env', '-p', '%s', '--set', '%s']' "
                "returned non-zero exit status 1." % (prefix, out))
        add_generation(prefix, out)
    rc = activate(out, action)
    if rc:
        die("Command '['%s/bin/switch-to-configuration', '%s']' returned non-zero exit status %d." % (out, action, rc))
    print(out)


def read_failure(system: str) -> str:
    try:
        return open(os.path.join(system, "fake-activation-failure")).read().strip()
    except OSError:
        return ""


def activate(system: str, action: str) -> int:
    """switch-to-configuration: boot loader (switch, boot), then activation (switch, test)."""
    failure = read_failure(system)
    if action in ("switch", "boot") and failure == "bootloader":
        print("Traceback (most recent call last):\nOSError: [Errno 28] No space left on device\n"
              "Failed to install bootloader", file=sys.stderr)
        return 1
    if action in ("switch", "test"):
        point(CURRENT, system)
        if failure == "units":
            print("warning: the following units failed: nixperf-fake.service\n\n"
                  "x nixperf-fake.service - fake unit that fails to restart\n"
                  "     Active: failed (Result: exit-code)", file=sys.stderr)
            return 4
    return 0


def home_manager(argv: list) -> None:
    action = next((a for a in argv if a in ("build", "switch", "generations")), None)
    user = os.environ.get("USER") or "user"
    flake = opt(argv, "--flake")
    if flake and "#" in flake and "@" in flake.split("#", 1)[1]:
        user = flake.split("#", 1)[1].split("@", 1)[0]
    prefix = os.path.join(ROOT, "home", user, ".local", "state", "nix", "profiles", "home-manager")
    if action == "generations":
        for g in reversed(generations(prefix)):
            print("2026-11-23 10:%02d : id %d -> %s" % (g, g, os.path.realpath("%s-%d-link" % (prefix, g))))
        return
    if action is None:
        die("home-manager: unknown command in %s" % argv)
    directory = config_source(argv)[0] if flake else os.path.join(ROOT, "home", user, ".config", "home-manager")
    out = home_generation_path(directory)
    if not os.path.isdir(out):
        os.makedirs(out)
        activate = os.path.join(out, "activate")
        with open(activate, "w") as f:
            f.write("#!/bin/sh\n# fake home-manager activation: a new profile generation\n"
                    "exec '%s' '%s' activate-home '%s' '%s'\n"
                    % (sys.executable, os.path.realpath(__file__), prefix, out))
        os.chmod(activate, 0o755)
    if action == "build":
        point(os.path.join(os.getcwd(), "result"), out)
        print(out)
        return
    add_generation(prefix, out)
    if os.environ.get("FAKE_HM_ACTIVATION_FAIL") == "1":
        die("Activating reloadSystemd\nThe user systemd session is degraded:\n  UNIT  LOAD  ACTIVE SUB DESCRIPTION\n"
            "● nixperf-fake.service loaded failed failed fake user unit")
    print(out)


def nix(argv: list) -> None:
    while "--extra-experimental-features" in argv:
        i = argv.index("--extra-experimental-features")
        argv = argv[:i] + argv[i + 2:]
    if argv[:2] == ["store", "diff-closures"]:
        a, b = argv[2], argv[3]
        ka = os.path.basename(os.path.dirname(os.path.realpath(os.path.join(a, "kernel"))))
        kb = os.path.basename(os.path.dirname(os.path.realpath(os.path.join(b, "kernel"))))
        if ka != kb:
            print("linux: %s → %s, +12.3 KiB" % (ka.rsplit("-", 1)[-1], kb.rsplit("-", 1)[-1]))
        print("nixos-system: %s → %s" % (os.path.basename(a)[:8], os.path.basename(b)[:8]))
        return
    if argv[:1] in (["build"], ["eval"]):
        home = home_target(argv)
        if home:
            directory, user = home
            out = home_generation_path(directory)
            if argv[0] == "eval":
                print(out, end="")
                return
            if "--dry-run" not in argv:
                die("nix build (test double): only --dry-run is supported")
            if not os.path.isdir(out):
                print_missing(directory, "home", user)
            return
    if argv[:1] == ["build"] and "--dry-run" not in argv:
        build(argv[1:])
        return
    if argv[:1] == ["eval"] and "--expr" in argv:
        print(system_path(argv), end="")
        return
    if argv[:1] == ["eval"]:
        target = next(a for a in argv[1:] if not a.startswith("-"))
        path, _sep, attr = target.partition("#")
        path = path[len("path:"):] if path.startswith("path:") else path
        host = attr.split(".")[1] if attr.startswith("nixosConfigurations.") else "default"
        print(system_path(["--flake", "%s#%s" % (path, host)]), end="")
        return
    die("nix: unsupported %s" % argv)


# nix build's options that the benchmark uses, with how many values each takes (src/nix/build.cc, the common
# installable options, and every setting as --option NAME VALUE or --NAME VALUE); anything else is refused the way
# Nix refuses it, so that a misspelt flag fails the test instead of passing unnoticed.
BUILD_FLAGS = {"--no-link": 0, "--rebuild": 0, "--print-build-logs": 0, "-L": 0, "--max-jobs": 1, "-j": 1,
               "--cores": 1, "--file": 1, "-f": 1, "--option": 2}


def build_seconds(cores: int) -> float:
    """How long a (re)build with ``cores`` takes: $ROOT/state/build-seconds holds "CORES SECONDS" lines; a count it
    does not list, or no file, takes 0.01 s."""
    try:
        with open(os.path.join(ROOT, "state", "build-seconds")) as f:
            table = {int(a): float(b) for a, b in (line.split() for line in f if line.strip())}
    except FileNotFoundError:
        table = {}
    return table.get(cores, 0.01)


def build(argv: list) -> None:
    """``nix build [--rebuild] [--no-link] [--max-jobs N] [--option cores N] [--file F] INSTALLABLE``.

    The installable (with its file) names a derivation; building it makes its output in the fake store.  --rebuild
    builds it again, as Nix's check mode does: it needs that output already ("some outputs ... are not valid, so
    checking is not possible" otherwise).  A build takes build_seconds(cores) (a plain build of a built output does
    nothing).  $ROOT/state/build-fail (any build that runs) and $ROOT/state/rebuild-fail (--rebuild only) make it
    fail after that time with their text on stderr and Nix's "builder ... failed" line (exit 1);
    $ROOT/state/build-nondeterministic makes a rebuild's output differ from the first (exit 104)."""
    options, positional, i = {}, [], 0
    while i < len(argv):
        a = argv[i]
        if a.startswith("-"):
            if a not in BUILD_FLAGS:
                die("error: unrecognised flag '%s'\nTry 'nix --help' for more information." % a)
            values = argv[i + 1:i + 1 + BUILD_FLAGS[a]]
            if len(values) < BUILD_FLAGS[a]:
                die("error: flag '%s' requires %d argument(s)" % (a, BUILD_FLAGS[a]))
            if a == "--option":
                options[values[0]] = values[1]
            else:
                options[{"-j": "--max-jobs", "-f": "--file", "-L": "--print-build-logs"}.get(a, a)] = values[0] if values else True
            i += 1 + BUILD_FLAGS[a]
            continue
        positional.append(a)
        i += 1
    if len(positional) != 1:
        die("nix build (test double): exactly one installable, got %s" % positional)
    cores = options.get("cores", options.get("--cores", "0"))
    if not cores.isdigit():
        die("error: configuration setting 'cores' should have an integer value, got '%s'" % cores)
    name = positional[0].rsplit("#", 1)[-1].rsplit(".", 1)[-1] or "default"
    key = "%s\0%s" % (options.get("--file", ""), positional[0])
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    drv = os.path.join(STORE, "%s-%s.drv" % (digest, name))
    out = os.path.join(STORE, "%s-%s" % (digest, name))
    state = os.path.join(ROOT, "state")
    rebuild = "--rebuild" in options
    if not rebuild and os.path.isdir(out):
        return  # already built: nothing to do
    if rebuild and not os.path.isdir(out):
        die("error: some outputs of '%s' are not valid, so checking is not possible" % drv)
    print("%s '%s'..." % ("checking outputs of" if rebuild else "building", drv), file=sys.stderr)
    time.sleep(build_seconds(int(cores)))
    for name in ("build-fail",) + (("rebuild-fail",) if rebuild else ()):
        if os.path.exists(os.path.join(state, name)):
            with open(os.path.join(state, name)) as f:
                sys.stderr.write(f.read())
            die("error: builder for '%s' failed with exit code 2" % drv)
    if rebuild and os.path.exists(os.path.join(state, "build-nondeterministic")):
        die("error: derivation '%s' may not be deterministic: output '%s' differs" % (drv, out), 104)
    os.makedirs(out, exist_ok=True)


def home_target(argv: list):
    """(configuration directory, user) of a home-manager activationPackage installable or expression."""
    if "--expr" in argv:
        expr = argv[argv.index("--expr") + 1]
        m = re.search(r'confPath = "([^"]+)"', expr)
        if "home-manager" in expr and m:
            return os.path.dirname(m.group(1)), "classic"
        return None
    installable = next((a for a in argv[1:] if not a.startswith("-") and "#" in a), None)
    if not installable or "#homeConfigurations." not in installable:
        return None
    path, _sep, attr = installable.partition("#")
    path = path[len("path:"):] if path.startswith("path:") else path
    m = re.match(r'^homeConfigurations\.(?:"([^"]+)"|([^.]+))\.activationPackage(\.outPath)?$', attr)
    if not m:
        die("nix (test double): unsupported attribute %s" % attr)
    return path, m.group(1) or m.group(2)


def systemd_run(argv: list) -> None:
    """``systemd-run --unit=U --on-active=N[s] [options] CMD...``: a transient timer that runs CMD in N s."""
    unit, delay, i = None, None, 0
    while i < len(argv) and argv[i].startswith("-"):
        a = argv[i]
        if a.startswith("--unit="):
            unit = a.split("=", 1)[1]
        elif a.startswith("--on-active="):
            delay = float(a.split("=", 1)[1].rstrip("s"))
        elif a in ("--unit", "--on-active", "-u", "-p", "--property", "--timer-property", "--description"):
            die("systemd-run (test double): write %s=VALUE" % a)
        i += 1
    command = argv[i:]
    if unit is None or delay is None or not command or not os.path.isabs(command[0]):
        die("systemd-run (test double): needs --unit=, --on-active= and an absolute command, got %s" % argv)
    os.makedirs(TIMERS, exist_ok=True)
    timer = os.path.join(TIMERS, unit + ".timer")
    if os.path.exists(timer):
        die("Failed to start transient timer unit: Unit %s.timer was already loaded or has a fragment file." % unit)
    with open(timer, "w") as f:
        json.dump({"command": command, "delay": delay, "armed": time.time()}, f)
    proc = subprocess.Popen([sys.executable, os.path.realpath(__file__), "timer-fire", unit],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True, env=dict(os.environ), cwd="/")
    with open(timer + ".pid", "w") as f:
        f.write(str(proc.pid))
    print("Running timer as unit: %s.timer\nWill run service as unit: %s.service" % (unit, unit), file=sys.stderr)


def timer_fire(argv: list) -> None:
    """The detached timer process: sleep, then run the command unless the timer was stopped."""
    unit = argv[0]
    timer = os.path.join(TIMERS, unit + ".timer")
    with open(timer) as f:
        spec = json.load(f)
    time.sleep(max(0.0, spec["armed"] + spec["delay"] - time.time()))
    service = os.path.join(TIMERS, unit + ".service")
    try:
        os.rename(timer, service)  # atomic against `systemctl stop`
    except FileNotFoundError:
        return
    with open(os.path.join(TIMERS, unit + ".log"), "w") as log:
        rc = subprocess.call(spec["command"], stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    with open(os.path.join(TIMERS, unit + ".rc"), "w") as f:
        f.write(str(rc))
    os.unlink(service)


def systemctl(argv: list) -> None:
    state = os.path.join(ROOT, "state")
    if argv[:1] == ["--user"]:
        argv = argv[1:]
        state = os.path.join(state, "user")
    if argv[:1] == ["is-system-running"]:
        try:
            health = open(os.path.join(state, "system-health")).read().strip()
        except FileNotFoundError:
            health = "running"
        end = time.time() + 300
        while health == "hang" and time.time() < end:  # a wedged system bus: no answer while the file says so
            time.sleep(0.2)
            health = open(os.path.join(state, "system-health")).read().strip()
        print(health)
        sys.exit(0 if health == "running" else 1)
    if argv[:1] == ["start"] or (argv[:1] == ["stop"] and not argv[1].endswith(".timer")):
        os.makedirs(os.path.join(state, "units"), exist_ok=True)
        for unit in [a for a in argv[1:] if not a.startswith("-")]:
            with open(os.path.join(state, "units", unit), "w") as f:
                f.write("active\n" if argv[0] == "start" else "inactive\n")
        return
    if argv[:1] == ["stop"]:
        rc = 0
        for unit in [a for a in argv[1:] if not a.startswith("-")]:
            if not unit.endswith(".timer"):
                die("systemctl (test double): only timers can be stopped, got %s" % unit)
            timer = os.path.join(TIMERS, unit)
            try:
                os.unlink(timer)
            except FileNotFoundError:
                print("Failed to stop %s: Unit %s not loaded." % (unit, unit), file=sys.stderr)
                rc = 5
                continue
            try:
                os.kill(int(open(timer + ".pid").read()), signal.SIGTERM)
            except (OSError, ValueError):
                pass
        sys.exit(rc)
    if argv[:1] == ["is-active"]:
        rc = 0
        for unit in [a for a in argv[1:] if not a.startswith("-")]:
            if unit.endswith(".timer"):
                s = "active" if os.path.exists(os.path.join(TIMERS, unit)) else "inactive"
                print(s)
                rc = rc or (0 if s == "active" else 3)
                continue
            try:
                s = open(os.path.join(state, "units", unit)).read().strip()
            except FileNotFoundError:
                s = "active"
            print(s)
            rc = rc or (0 if s == "active" else 3)
        sys.exit(rc)
    if argv[:1] == ["show"]:
        # systemctl show --property A,B UNIT...: $ROOT/state/show/<unit> holds the unit's KEY=VALUE lines (a unit
        # without one is not found); one block per unit, blank line between, as systemctl prints them
        props = (opt(argv, "--property") or opt(argv, "-p") or "").split(",")
        units = [a for i, a in enumerate(argv[1:], 1) if not a.startswith("-") and argv[i - 1] not in ("--property", "-p")]
        blocks = []
        for unit in units:
            try:
                with open(os.path.join(state, "show", unit)) as f:
                    known = dict(line.rstrip("\n").split("=", 1) for line in f if "=" in line)
                known.setdefault("LoadState", "loaded")
            except FileNotFoundError:
                known = {"LoadState": "not-found"}
            blocks.append("\n".join("%s=%s" % (p, known.get(p, "")) for p in props if p))
        print("\n\n".join(blocks))
        return
    if argv[:1] == ["--failed"] or "--failed" in argv:
        try:
            print(open(os.path.join(state, "failed-units")).read().strip())
        except FileNotFoundError:
            pass
        return
    die("systemctl: unsupported %s" % argv)


CHEZMOI_PREFIXES = ("create_", "modify_", "remove_", "encrypted_", "private_", "readonly_", "empty_", "executable_",
                    "symlink_", "exact_", "external_")


def chezmoi_target(name: str) -> str:
    """A source-state name's target name (chezmoi's prefixes and suffixes; literal_ stops the prefixes)."""
    if name.endswith(".tmpl"):
        name = name[:-len(".tmpl")]
    if name.endswith(".literal"):
        return name[:-len(".literal")]
    changed = True
    while changed:
        changed = False
        if name.startswith("literal_"):
            return name[len("literal_"):]
        for p in CHEZMOI_PREFIXES:
            if name.startswith(p):
                name, changed = name[len(p):], True
    return "." + name[len("dot_"):] if name.startswith("dot_") else name


def chezmoi(argv: list) -> None:
    if os.environ.get("FAKE_NO_CHEZMOI") == "1":
        die("chezmoi: command not found", 127)
    if argv[:1] != ["apply"]:
        die("chezmoi (test double): only apply is supported, got %s" % argv)
    source, dest = opt(argv, "--source"), opt(argv, "--destination")
    if not source or not dest or "--" not in argv:
        die("chezmoi (test double): needs --source, --destination and -- TARGETS, got %s" % argv)
    targets = argv[argv.index("--") + 1:]
    found = {}
    for dirpath, _dirs, names in os.walk(source):
        rel = os.path.relpath(dirpath, source)
        parts = [] if rel == "." else [chezmoi_target(p) for p in rel.split(os.sep)]
        for n in names:
            if n.startswith(".chezmoi"):
                continue
            target = os.path.join(dest, *parts, chezmoi_target(n))
            if target in found:
                die("chezmoi: %s: inconsistent state (%s, %s)" % (target, found[target][0], os.path.join(dirpath, n)))
            found[target] = (os.path.join(dirpath, n), n)
    for target in targets:
        if target not in found:
            die("chezmoi: %s: not managed" % target)
        path, name = found[target]
        if not (name.startswith("modify_") or "_modify_" in name):
            die("chezmoi (test double): only modify_ scripts are supported, got %s" % name)
        try:
            current = open(target, "rb").read()
        except FileNotFoundError:
            current = b""
        proc = subprocess.run(["/bin/sh", path], input=current, capture_output=True, check=False)
        if proc.returncode != 0:
            die("chezmoi: %s: exit status %d: %s" % (target, proc.returncode, proc.stderr.decode()))
        if "--dry-run" in argv:
            if "--verbose" in argv and proc.stdout != current:
                print("diff --git a/%s b/%s" % (target, target))
            continue
        if proc.stdout != current:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "wb") as f:
                f.write(proc.stdout)


def dbus_send(argv: list) -> None:
    if os.path.exists(os.path.join(ROOT, "state", "no-session-bus")):
        die("Failed to open connection to \"session\" message bus: Connection refused")


def runuser(argv: list) -> None:
    if argv[:1] != ["-u"] or argv[2:3] != ["--"]:
        die("runuser (test double): only runuser -u USER -- CMD..., got %s" % argv)
    sys.exit(subprocess.call(argv[3:]))


def switch_to_configuration(argv: list) -> None:
    out, action = argv[0], argv[1]
    sys.exit(activate(out, action))


def nix_env(argv: list) -> None:
    profile = opt(argv, "--profile") or opt(argv, "-p")
    number = opt(argv, "--switch-generation")
    if not profile or number is None:
        die("nix-env: unsupported %s" % argv)
    link = "%s-%s-link" % (profile, number)
    if not os.path.lexists(link):
        die("error: generation %s does not exist" % number)
    point(profile, os.path.basename(link))
    print("switching profile from version X to %s" % number, file=sys.stderr)


def ssh(argv: list) -> None:
    """``ssh HOST COMMAND...``: runs COMMAND here (the fake root is the remote host)."""
    import subprocess

    rest = list(argv)
    if not rest or rest[0].startswith("-") or len(rest) < 2:
        die("ssh (test double): only 'ssh HOST COMMAND...' is supported, got %s" % argv)
    sys.exit(subprocess.call(rest[1:]))


def activate_home(argv: list) -> None:
    prefix, out = argv
    add_generation(prefix, out)


def captured(prog: str, argv: list) -> None:
    """vainfo, systemd-analyze, nvidia-smi: print the output captured for them in $ROOT/state/out/<name>.stdout
    (.stderr, .rc beside it), <name> being the program or program-subcommand (systemd-analyze-time); without a
    capture the program is missing (exit 127)."""
    name = prog + ("-" + argv[0] if argv and not argv[0].startswith("-") else "")
    base = os.path.join(ROOT, "state", "out", name)
    if not os.path.exists(base + ".stdout"):
        die("%s: command not found" % prog, 127)
    sys.stdout.write(open(base + ".stdout").read())
    if os.path.exists(base + ".stderr"):
        sys.stderr.write(open(base + ".stderr").read())
    sys.exit(int(open(base + ".rc").read()) if os.path.exists(base + ".rc") else 0)


def main() -> None:
    prog = os.path.basename(sys.argv[0])
    if prog == "fakenix.py" and sys.argv[1:2] == ["activate-home"]:
        prog, sys.argv = "activate", [sys.argv[0]] + sys.argv[2:]
    if prog == "fakenix.py" and sys.argv[1:2] == ["switch-to-configuration"]:
        prog, sys.argv = "switch-to-configuration", [sys.argv[0]] + sys.argv[2:]
    if prog == "fakenix.py" and sys.argv[1:2] == ["timer-fire"]:
        timer_fire(sys.argv[2:])  # not a call of a real program: not recorded
        return
    if not ROOT:
        die("%s (test double): NIXPERF_FAKE_ROOT is not set" % prog, 2)
    record(prog, sys.argv[1:])
    {"nixos-rebuild": nixos_rebuild, "home-manager": home_manager, "nix": nix,
     "systemctl": systemctl, "activate": activate_home, "nix-env": nix_env,
     "switch-to-configuration": switch_to_configuration, "ssh": ssh,
     "systemd-run": systemd_run, "chezmoi": chezmoi, "dbus-send": dbus_send,
     "runuser": runuser, "vainfo": lambda argv: captured("vainfo", argv),
     "systemd-analyze": lambda argv: captured("systemd-analyze", argv),
     "nvidia-smi": lambda argv: captured("nvidia-smi", argv)}[prog](sys.argv[1:])


if __name__ == "__main__":
    main()
