# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where generated files go, from the one global switch ``nixperf_mode``.

``render``: under ``<nixperf_build_dir>/<host>/`` on the controller's disk,
mirroring the real paths (``build/shoshin/etc/nixos/nixperf/memory.nix``).
``apply``: the real paths on the host (root ``/``).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import List, Optional, Sequence

MODES = ("render", "apply")
NIXOS_SUBDIR = "etc/nixos/nixperf"
HOME_SUBDIR = ".config/home-manager/nixperf"
DEFAULT_ENTRY_FILES = ("etc/nixos/configuration.nix", "etc/nixos/flake.nix")


class LayoutError(ValueError):
    pass


@dataclass(frozen=True)
class Layout:
    mode: str
    root: str
    nixos_dir: str
    entry_files: List[str]

    def nixos_module(self, phase: str) -> str:
        return os.path.join(self.nixos_dir, phase + ".nix")

    def home_dir(self, user: str) -> str:
        """Generated home-manager modules of ``user`` (imported by their home.nix once)."""
        if not user or "/" in user or user in (".", ".."):
            raise LayoutError("user name %r cannot name a home directory" % (user,))
        return os.path.join(self.root, "home", user, HOME_SUBDIR)


def layout(host: str, mode: Optional[str] = None, root: Optional[str] = None, build_dir: Optional[str] = None,
           config_file: Optional[str] = None, cwd: Optional[str] = None,
           entry_files: Optional[Sequence[str]] = None) -> Layout:
    mode = mode or "render"
    if mode not in MODES:
        raise LayoutError("host %s: nixperf_mode must be one of %s, got %r" % (host, ", ".join(MODES), mode))
    if root:
        if not os.path.isabs(root):
            raise LayoutError("host %s: nixperf_root must be an absolute path, got %r" % (host, root))
    elif mode == "apply":
        root = "/"
    else:
        if not build_dir:
            base = os.path.dirname(config_file) if config_file else (cwd or os.getcwd())
            build_dir = os.path.join(base, "build")
        if not os.path.isabs(build_dir):
            raise LayoutError("host %s: nixperf_build_dir must be an absolute path, got %r" % (host, build_dir))
        if "/" in host or host in (".", ".."):
            raise LayoutError("host %s: an inventory name with '/' cannot name a build directory" % host)
        root = os.path.join(build_dir, host)
    root = os.path.normpath(root)
    entries = [os.path.join(root, e) if not os.path.isabs(e) else os.path.join(root, e.lstrip("/"))
               for e in (entry_files or DEFAULT_ENTRY_FILES)]
    return Layout(mode=mode, root=root, nixos_dir=os.path.join(root, NIXOS_SUBDIR), entry_files=entries)
