# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One runner for the Nix command-line tools the collection calls.

Command lines are built by pure functions (unit-tested against recorded argv);
``run`` is the only place that executes them: C locale, a timeout, never a shell.
"""

from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple

# Where Nix tools live on NixOS and on multi-user / single-user installs, beside $PATH.
NIX_BIN_DIRS = [
    "/run/current-system/sw/bin",
    "/nix/var/nix/profiles/default/bin",
    "/usr/bin",
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
) -> Tuple[int, str, str]:
    """Run ``argv`` (a list, no shell) in the C locale; return rc, stdout, stderr."""
    environ = dict(BASE_ENV)
    environ.update(env or {})
    kwargs = {"environ_update": environ, "check_rc": False}
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


def stderr_tail(text: str, lines: int = 20) -> str:
    """The last ``lines`` lines of a command's error output, for messages."""
    parts = (text or "").strip().splitlines()
    return "\n".join(parts[-lines:])
