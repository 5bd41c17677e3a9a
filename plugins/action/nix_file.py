# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of nix_file: the single-file form of write_files."""
from __future__ import annotations

from typing import Any, Dict, List

from ansible_collections.nixperf.tuning.plugins.action.write_files import ActionModule as WriteFilesAction


class ActionModule(WriteFilesAction):
    MODULE = "nixperf.tuning.nix_file"
    DEFAULT_ROLE = "nix_file"
    PASS_HOST = False

    def entries(self, args: Dict[str, Any]) -> List[Dict[str, Any]]:
        return [{k: args.get(k) for k in ("path", "content", "data", "module", "raw_fragments") if k in args}]

    def rebuild(self, args: Dict[str, Any], rendered: List[Dict[str, Any]]) -> Dict[str, Any]:
        new = {k: v for k, v in args.items() if k not in ("data", "module")}
        new.update(content=rendered[0]["content"], raw_fragments=rendered[0].get("raw_fragments", []))
        return new
