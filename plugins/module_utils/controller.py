# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The small part of AnsibleModule that a write batch needs, for running it in
the controller process.

When the files go to the machine Ansible runs on, as the same user (render
mode, or a local connection without become), starting a module process per
host only costs time: about 0.15 s per host here, most of a no-op converge.
The write_files action then drives the same ``Batch`` through this adapter.
Only octal modes are handled; anything else goes through the real module.
"""
from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import tempfile
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple

_OCTAL = re.compile(r"0?[0-7]{3,4}")


def octal_mode(mode: Any) -> Optional[int]:
    """``0644`` / ``"0644"`` / ``"644"`` as an int; None for anything this adapter does not handle."""
    if isinstance(mode, int) and not isinstance(mode, bool):
        return mode if 0 <= mode <= 0o7777 else None
    if isinstance(mode, str) and _OCTAL.fullmatch(mode):
        return int(mode, 8)
    return None


class ControllerModule:
    """Stands in for AnsibleModule in ``files.write_batch`` and ``cmd.run``."""

    def __init__(self, check_mode: bool) -> None:
        self.check_mode = check_mode
        self.params: Dict[str, Any] = {}
        self.warnings: List[str] = []
        self._tmpdir: Optional[str] = None

    @property
    def tmpdir(self) -> str:
        if self._tmpdir is None:
            self._tmpdir = tempfile.mkdtemp(prefix="nixperf-write-")
        return self._tmpdir

    def cleanup(self) -> None:
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def get_bin_path(self, name: str, required: bool = False, opt_dirs: Optional[Sequence[str]] = None) -> Optional[str]:
        path = os.pathsep.join([os.environ.get("PATH", "")] + list(opt_dirs or []))
        found = shutil.which(name, path=path)
        if found is None and required:
            raise OSError("%s not found" % name)
        return found

    def run_command(self, argv: Sequence[str], environ_update: Optional[Dict[str, str]] = None, check_rc: bool = False,
                    cwd: Optional[str] = None, data: Optional[str] = None, binary_data: bool = False
                    ) -> Tuple[int, str, str]:
        env = dict(os.environ, **(environ_update or {}))
        proc = subprocess.run(list(argv), env=env, cwd=cwd, input=data, capture_output=True, text=True, check=False)
        return proc.returncode, proc.stdout, proc.stderr

    def backup_local(self, path: str) -> str:
        """``<path>.<pid>.<time>~``, as AnsibleModule names backups."""
        dest = "%s.%s.%s" % (path, os.getpid(), time.strftime("%Y-%m-%d@%H:%M:%S~", time.localtime(time.time())))
        shutil.copy2(path, dest)
        return dest

    def atomic_move(self, src: str, dest: str) -> None:
        if os.path.exists(dest):
            shutil.copymode(dest, src)  # keep the replaced file's permissions, as AnsibleModule does
        os.replace(src, dest)

    def load_file_common_arguments(self, params: Dict[str, Any], path: Optional[str] = None) -> Dict[str, Any]:
        return {"path": path, "mode": None}

    def set_fs_attributes_if_different(self, file_args: Dict[str, Any], changed: bool, diff: Any = None,
                                       expand: bool = True) -> bool:
        mode = octal_mode(file_args.get("mode"))
        if mode is None:
            return changed
        current = stat.S_IMODE(os.lstat(file_args["path"]).st_mode)
        if current == mode:
            return changed
        if not self.check_mode:
            os.chmod(file_args["path"], mode)
        return True
