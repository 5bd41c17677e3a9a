# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One runner for the Nix command-line tools the collection calls.

Command lines are built by pure functions (unit-tested against recorded argv);
``run`` is the only place that executes them: C locale, a timeout, never a shell.
"""

from __future__ import annotations

import os
import re
from typing import Dict, List, Optional, Sequence, Tuple

# Where Nix tools live on NixOS and on multi-user installs; searched before $PATH
# (which covers distribution packages such as Debian's nix-bin).
NIX_BIN_DIRS = [
    "/run/current-system/sw/bin",
    "/nix/var/nix/profiles/default/bin",
]

# nix-instantiate --parse needs no store; the dummy store keeps it from
# contacting a daemon (and works unprivileged).
PARSE_ENV = {"NIX_REMOTE": "dummy://"}
BASE_ENV = {"LANG": "C", "LC_ALL": "C"}


def parse_argv(nix_instantiate: str, paths: Sequence[str]) -> List[str]:
    """``nix-instantiate --parse`` of several files in one process."""
    return [nix_instantiate, "--parse"] + list(paths)


def parse_expr_argv(nix_instantiate: str, expr: str) -> List[str]:
    """``nix-instantiate --parse -E expr``."""
    return [nix_instantiate, "--parse", "-E", expr]


def fragment_expr(fragment: str) -> str:
    """An expression that parses exactly when ``fragment`` does on its own.

    The parser rejects free variables, and a raw fragment is meant to use the
    module's (``pkgs``, ``lib``, ``config``); ``with { };`` defers them to
    evaluation.  The newline keeps a trailing comment from hiding anything.
    """
    return "with { }; " + fragment + "\n"


def find_nix_instantiate(module) -> Optional[str]:
    return module.get_bin_path("nix-instantiate", required=False, opt_dirs=NIX_BIN_DIRS)


def run(
    module,
    argv: Sequence[str],
    env: Optional[Dict[str, str]] = None,
    timeout: Optional[int] = None,
    data: Optional[str] = None,
    cwd: Optional[str] = None,
) -> Tuple[int, str, str]:
    """Run ``argv`` (a list, no shell) in the C locale; return rc, stdout, stderr."""
    environ = dict(BASE_ENV)
    environ.update(env or {})
    kwargs = {"environ_update": environ, "check_rc": False}
    if cwd is not None:
        kwargs["cwd"] = cwd
    if data is not None:
        kwargs["data"] = data
        kwargs["binary_data"] = True
    if timeout:
        # run_command has no timeout of its own; coreutils' timeout is on every
        # target this collection supports (NixOS, Debian controller).
        timeout_bin = module.get_bin_path("timeout", required=False, opt_dirs=NIX_BIN_DIRS)
        if timeout_bin:
            argv = [timeout_bin, "--kill-after=10", str(int(timeout))] + list(argv)
    return module.run_command(list(argv), **kwargs)


class Recorder:
    """Runs the commands of one module call, keeps their argv for the result, and
    fails the module with the error's tail, naming what was being done and where."""

    def __init__(self, module, subject: str, timeout: Optional[int] = None, cwd: Optional[str] = None) -> None:
        self.module = module
        self.subject = subject
        self.timeout = timeout
        self.cwd = cwd
        self.commands: List[List[str]] = []

    def run(self, argv: Sequence[str], what: str, allow_fail: bool = False) -> Tuple[int, str, str]:
        self.commands.append(list(argv))
        rc, out, err = run(self.module, argv, timeout=self.timeout, cwd=self.cwd)
        if rc != 0 and not allow_fail:
            self.fail("%s (rc %d)" % (what, rc), err)
        return rc, out, err

    def fail(self, what: str, err: str = "") -> None:
        tail = stderr_tail(err)
        self.module.fail_json(msg="Failed to %s on %s: %s" % (what, self.subject, tail), stderr_tail=tail,
                              commands=self.commands)


def built_path(out: str, workdir: str) -> Optional[str]:
    """The store path a build made: its ``result`` link, else the last line it printed."""
    link = os.path.join(workdir, "result")
    if os.path.exists(link):
        return os.path.realpath(link)
    lines = (out or "").strip().splitlines()
    return lines[-1].strip() if lines else None


def stderr_tail(text: str, lines: int = 20) -> str:
    """The last ``lines`` lines of a command's error output, for messages."""
    parts = (text or "").strip().splitlines()
    return "\n".join(parts[-lines:])


# ---------------------------------------------------------------- nixos-rebuild / home-manager / nix

NIXOS_REBUILD_ACTIONS = ("dry-build", "build", "test", "switch", "boot")
_FEATURES = ["--extra-experimental-features", "nix-command flakes"]


def split_flake(flake: str) -> Tuple[str, str]:
    """``PATH#NAME`` -> (PATH, NAME); NAME may be empty."""
    path, _sep, name = flake.partition("#")
    return path, name


def nixos_rebuild_argv(binary: str, action: str, flake: Optional[str] = None, nixos_config: Optional[str] = None,
                       rollback: bool = False, target_host: Optional[str] = None, use_remote_sudo: bool = False,
                       extra_args: Sequence[str] = ()) -> List[str]:
    if action not in NIXOS_REBUILD_ACTIONS:
        raise ValueError("unknown nixos-rebuild action %r" % action)
    argv = [binary, action]
    if flake:
        argv += ["--flake", flake]
    if nixos_config:
        argv += ["-I", "nixos-config=" + nixos_config]
    if rollback:
        argv.append("--rollback")
    if target_host:
        argv += ["--target-host", target_host]
    if use_remote_sudo:
        argv.append("--use-remote-sudo")
    return argv + list(extra_args)


def toplevel_argv(nix: str, flake: Optional[str] = None, nixos_config: Optional[str] = None) -> List[str]:
    """Evaluate (never build) the store path of the system a configuration gives."""
    if flake:
        path, host = split_flake(flake)
        attr = "nixosConfigurations.%s.config.system.build.toplevel.outPath" % _attr(host)
        return [nix] + _FEATURES + ["eval", "--raw", "%s#%s" % (path, attr)]
    argv = [nix] + _FEATURES + ["eval", "--impure", "--raw", "--expr",
                                "(import <nixpkgs/nixos> { }).config.system.build.toplevel.outPath"]
    if nixos_config:
        argv += ["-I", "nixos-config=" + nixos_config]
    return argv


def diff_closures_argv(nix: str, old: str, new: str) -> List[str]:
    return [nix] + _FEATURES + ["store", "diff-closures", old, new]


def home_manager_argv(binary: str, action: str, flake: Optional[str] = None,
                      extra_args: Sequence[str] = ()) -> List[str]:
    if action not in ("build", "switch", "generations"):
        raise ValueError("unknown home-manager action %r" % action)
    argv = [binary, action]
    if flake:
        argv += ["--flake", flake]
    return argv + list(extra_args)


def _attr(name: str) -> str:
    """A flake attribute name, quoted when it is not a bare identifier (``"user@host"``)."""
    if re.match(r"^[A-Za-z_][A-Za-z0-9_'-]*$", name):
        return name
    return '"%s"' % name.replace("\\", "\\\\").replace('"', '\\"')


def switch_generation_argv(nix_env: str, profile: str, generation: int) -> List[str]:
    """Point a profile at an existing generation (no build)."""
    return [nix_env, "--profile", profile, "--switch-generation", str(int(generation))]


def switch_to_configuration_argv(profile: str, action: str) -> List[str]:
    """Activate the system a profile points at (what nixos-rebuild runs after building)."""
    if action not in ("switch", "boot", "test"):
        raise ValueError("switch-to-configuration does not do %r" % action)
    return [profile.rstrip("/") + "/bin/switch-to-configuration", action]


# ---------------------------------------------------------------- dry runs: what a build would cost

HOME_MANAGER_NIX = "<home-manager/home-manager/home-manager.nix>"


def _nix_string(text: str) -> str:
    return '"%s"' % text.replace("\\", "\\\\").replace('"', '\\"').replace("${", "\\${")


def home_activation(flake: Optional[str], config_file: str, user: str) -> List[str]:
    """The home-manager generation as ``nix build`` / ``nix eval`` arguments (no trailing attribute).

    A flake: ``PATH#homeConfigurations."NAME".activationPackage`` (NAME after ``#``, else the user, as
    home-manager's fallback). The classic layout: home-manager's own entry point with ``confPath``, as
    ``home-manager build`` evaluates it.
    """
    if flake:
        path, name = split_flake(flake)
        return ["%s#homeConfigurations.%s.activationPackage" % (path, _attr(name or user))]
    return ["--impure", "--expr", "(import %s { confPath = %s; }).activationPackage"
            % (HOME_MANAGER_NIX, _nix_string(config_file))]


def nix_dry_run_argv(nix: str, *installable: str) -> List[str]:
    """``nix build --dry-run``: evaluate and print what would be built and fetched (printMissing), build nothing."""
    return [nix] + _FEATURES + ["build", "--dry-run", "--no-link"] + list(installable)


def nix_eval_out_path_argv(nix: str, *installable: str) -> List[str]:
    """The store path of ``installable`` (``nix eval --raw ... .outPath``), without building it."""
    args = list(installable)
    if "--expr" in args:
        i = args.index("--expr") + 1
        args[i] = "(%s).outPath" % args[i]
        return [nix] + _FEATURES + ["eval", "--raw"] + args
    return [nix] + _FEATURES + ["eval", "--raw", args[-1] + ".outPath"] + args[:-1]


def home_manager_config_args(flake: Optional[str], config_file: Optional[str]) -> List[str]:
    """``--flake REF`` or ``-f FILE`` (home-manager's own options); nothing for its default configuration."""
    if flake:
        return ["--flake", flake]
    if config_file:
        return ["-f", config_file]
    return []
