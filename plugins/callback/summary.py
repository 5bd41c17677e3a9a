# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: summary
type: notification
short_description: One-screen summary of the generated files per host
version_added: 0.1.0
description:
  - At the end of a playbook, prints one line per host with the number of generated files, how many changed (or
    would change, in check mode) and the changed paths, taken from the results of
    M(nixperf.tuning.write_files) and M(nixperf.tuning.nix_file).
  - Adds nothing when no task wrote generated files.
requirements:
  - enable in C(callbacks_enabled) (the collection's C(ansible.cfg) does)
"""

import os  # noqa: E402
from typing import Dict, List  # noqa: E402

from ansible.plugins.callback import CallbackBase  # noqa: E402

_MODULES = ("nixperf.tuning.write_files", "nixperf.tuning.nix_file", "nixperf.tuning.phase", "write_files", "nix_file",
            "phase")


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "notification"
    CALLBACK_NAME = "nixperf.tuning.summary"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self) -> None:
        super().__init__()
        self.files: Dict[str, Dict[str, bool]] = {}
        self.check = False

    def v2_playbook_on_play_start(self, play) -> None:
        self.check = bool(getattr(play, "check_mode", False)) or self.check

    def v2_runner_on_ok(self, result) -> None:
        if result._task.action not in _MODULES:
            return
        host = result._host.get_name()
        entries = self.files.setdefault(host, {})
        for f in result._result.get("files") or []:
            entries[f["path"]] = entries.get(f["path"], False) or bool(f.get("changed"))

    def v2_playbook_on_stats(self, stats) -> None:
        if not self.files:
            return
        lines: List[str] = []
        width = max(len(h) for h in self.files)
        verb = "would change" if self.check else "changed"
        for host in sorted(self.files):
            entries = self.files[host]
            changed = sorted(p for p, c in entries.items() if c)
            root = os.path.commonpath(list(entries)) if entries else ""
            shown = ", ".join(os.path.relpath(p, root) for p in changed) if changed else "-"
            lines.append("%-*s  %2d files, %2d %s  under %s: %s"
                         % (width, host, len(entries), len(changed), verb, root, shown))
        total = sum(len(e) for e in self.files.values())
        total_changed = sum(sum(e.values()) for e in self.files.values())
        lines.append("%d hosts, %d generated files, %d %s" % (len(self.files), total, total_changed, verb))
        self._display.banner("NIXPERF SUMMARY")
        for ln in lines:
            self._display.display(ln)
