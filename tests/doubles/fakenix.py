#!/usr/bin/env python
"""Test double for nixos-rebuild, home-manager, nix and systemctl.

These programs cannot run on a machine without NixOS.  The double simulates
them faithfully enough for the apply engine: generations are symlinks in a
temporary root, a system is a directory in a fake store whose name is a hash of
the configuration it was built from, and every invocation is recorded.

Environment:
  NIXPERF_FAKE_ROOT   the temporary root (required): nix/store, run/current-system,
                      nix/var/nix/profiles/system-N-link, home/<user>/..., calls.jsonl
  FAKE_KERNEL         kernel version of systems built now (default 6.12.0)
  FAKE_PRESWITCH_FAIL 1: switch/test fail with "Pre-switch checks failed"
A file in the configuration containing FAKE_EVAL_ERROR makes evaluation fail.
$ROOT/state/system-health (default "running") and $ROOT/state/units/<unit>
("active" when missing) answer systemctl.
"""
from __future__ import annotations

import hashlib
import json
import os
import sys

ROOT = os.environ.get("NIXPERF_FAKE_ROOT")
STORE = os.path.join(ROOT or "/nonexistent", "nix", "store")
PROFILES = os.path.join(ROOT or "/nonexistent", "nix", "var", "nix", "profiles")
CURRENT = os.path.join(ROOT or "/nonexistent", "run", "current-system")


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


def realise_system(out: str) -> None:
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
    if action == "dry-build":
        if not os.path.isdir(out):
            print("these 1 derivations will be built:\n  %s.drv" % out, file=sys.stderr)
        return
    realise_system(out)
    if action == "build":
        point(os.path.join(os.getcwd(), "result"), out)
        print(out)
        return
    if action in ("switch", "test") and os.environ.get("FAKE_PRESWITCH_FAIL") == "1":
        die("Pre-switch checks failed")
    if action in ("switch", "boot"):
        add_generation(prefix, out)
    if action in ("switch", "test"):
        point(CURRENT, out)
    print(out)


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
    out = os.path.join(STORE, "%s-home-manager-generation" % evaluate(directory))
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
        print(health)
        sys.exit(0 if health == "running" else 1)
    if argv[:1] == ["is-active"]:
        rc = 0
        for unit in [a for a in argv[1:] if not a.startswith("-")]:
            try:
                s = open(os.path.join(state, "units", unit)).read().strip()
            except FileNotFoundError:
                s = "active"
            print(s)
            rc = rc or (0 if s == "active" else 3)
        sys.exit(rc)
    if argv[:1] == ["--failed"] or "--failed" in argv:
        try:
            print(open(os.path.join(state, "failed-units")).read().strip())
        except FileNotFoundError:
            pass
        return
    die("systemctl: unsupported %s" % argv)


def switch_to_configuration(argv: list) -> None:
    out, action = argv[0], argv[1]
    if action in ("switch", "test"):
        point(CURRENT, out)


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


def main() -> None:
    prog = os.path.basename(sys.argv[0])
    if prog == "fakenix.py" and sys.argv[1:2] == ["activate-home"]:
        prog, sys.argv = "activate", [sys.argv[0]] + sys.argv[2:]
    if prog == "fakenix.py" and sys.argv[1:2] == ["switch-to-configuration"]:
        prog, sys.argv = "switch-to-configuration", [sys.argv[0]] + sys.argv[2:]
    if not ROOT:
        die("%s (test double): NIXPERF_FAKE_ROOT is not set" % prog, 2)
    record(prog, sys.argv[1:])
    {"nixos-rebuild": nixos_rebuild, "home-manager": home_manager, "nix": nix,
     "systemctl": systemctl, "activate": activate_home, "nix-env": nix_env,
     "switch-to-configuration": switch_to_configuration, "ssh": ssh}[prog](sys.argv[1:])


if __name__ == "__main__":
    main()
