# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The magic rollback: a transient systemd timer on the target that puts the previous system and the previous
generated files back unless the apply run confirms the new system in time.

Armed before the switch (``systemd-run --on-active=<timeout>``), so a switch that kills the connection, the
controller or the run itself is undone by the host alone. The script it runs lives in ``/run`` and calls only
absolute paths resolved before the switch, inside the previous system's closure: nothing of the controller, of
Ansible or of the new generation. The run confirms after its health checks over a fresh connection; confirming
and firing decide through one atomic ``mkdir``, so exactly one of them wins.

The pure functions build the script and the command lines; ``arm``, ``decide`` and ``resolve_tools`` do the I/O.
"""
from __future__ import annotations

import os
import shlex
import tempfile
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple

UNIT_PREFIX = "nixperf-rollback"
DEFAULT_DIR = "/run/nixperf"
TOOLS = ("sh", "mkdir", "cp", "mv", "rm", "cat", "flock", "nix-env")
CONFIRMED = "confirmed"
ROLLED_BACK = "rolled-back"


def unit_name(stamp: Optional[float] = None) -> str:
    """``nixperf-rollback-<epoch>``: one per armed switch (the host lock keeps switches apart)."""
    return "%s-%d" % (UNIT_PREFIX, int(stamp if stamp is not None else time.time()))


def paths(directory: str, unit: str) -> Dict[str, str]:
    """Where an armed rollback keeps its script, its decision and its outcome."""
    base = os.path.join(directory, unit)
    return {
        "script": base + ".sh",
        "decided": base + ".decided",  # a directory: mkdir is the atomic decision
        "outcome": base + ".outcome",
        "switch_lock": os.path.join(directory, "switch.lock"),
    }


def restore_plan(files: Sequence[Dict[str, Any]]) -> List[Tuple[str, Optional[str]]]:
    """(path, backup) for every file a write changed: put the backup back, or remove the file (backup None).

    The same rules as ``restore_files``: a created file goes, a replaced or removed one comes back from its
    backup, the record of generated files only when it has one. ValueError when a file cannot be restored.
    """
    plan: List[Tuple[str, Optional[str]]] = []
    for e in files or []:
        if not e.get("changed"):
            continue
        if e.get("backup_file"):
            plan.append((e["path"], e["backup_file"]))
        elif e.get("created"):
            plan.append((e["path"], None))
        elif e.get("manifest"):
            continue
        else:
            raise ValueError("%s was %s without a backup" % (e["path"], "removed" if e.get("removed") else "replaced"))
    return plan


def _q(text: str) -> str:
    return shlex.quote(str(text))


def script(unit: str, tools: Dict[str, str], steps: Sequence[Sequence[str]], files: Sequence[Tuple[str, Optional[str]]],
           directory: str, timeout: int, subject: str, lock: Optional[Tuple[str, str]] = None) -> str:
    """The shell script the timer runs.

    ``tools`` maps each of TOOLS to an absolute path; ``steps`` are the system's rollback commands (absolute
    store paths); ``files`` the restore plan; ``lock`` (path, content) the apply lock of the run, removed when it
    still holds exactly that content (the run that never confirmed is gone).
    """
    t = {k: _q(v) for k, v in tools.items()}
    p = {k: _q(v) for k, v in paths(directory, unit).items()}
    lines = [
        "#!%s" % tools["sh"],
        "# nixperf.tuning magic rollback of %s (unit %s, %d s after it was armed)." % (subject, unit, timeout),
        "# Runs unless the apply run confirmed the new system in time. Uses only the absolute paths below",
        "# (the previous system's closure) and this file: nothing of the controller or of the new generation.",
        "set -u",
        "exec 9>>%s" % p["switch_lock"],
        "%s 9  # a switch still running finishes first" % t["flock"],
        "if ! %s %s 2>/dev/null; then" % (t["mkdir"], p["decided"]),
        "  echo 'nixperf: the new system was confirmed in time; nothing to roll back'",
        "  exit 0",
        "fi",
        ": > %s/%s" % (p["decided"], ROLLED_BACK),
        "echo %s" % _q("nixperf: no confirmation within %d s: rolling %s back" % (timeout, subject)),
        "status=0",
    ]
    if files:
        lines.append("# the generated files, as they were before the write")
    for path, backup in files:
        if backup is None:
            lines.append("%s -f %s || status=1" % (t["rm"], _q(path)))
        else:
            tmp = _q(path + ".nixperf-rollback")
            lines.append("%s -p %s && %s -p %s %s && %s -f %s %s || status=1" % (
                t["mkdir"], _q(os.path.dirname(path)), t["cp"], _q(backup), tmp, t["mv"], tmp, _q(path)))
    if steps:
        lines.append("# the system: profile, boot default and running system")
    for argv in steps:
        lines.append("%s || status=1" % " ".join(_q(a) for a in argv))
    if lock:
        lines += [
            "# the apply lock of the run that never confirmed",
            "if [ \"$(%s %s 2>/dev/null)\" = %s ]; then %s -f %s; fi" % (
                t["cat"], _q(lock[0]), _q(lock[1]), t["rm"], _q(lock[0])),
        ]
    lines += [
        "echo \"$status\" > %s" % p["outcome"],
        "%s -f %s" % (t["rm"], p["script"]),
        "echo \"nixperf: rollback finished with status $status\"",
        "exit \"$status\"",
    ]
    return "\n".join(lines) + "\n"


def systemd_run_argv(systemd_run: str, unit: str, timeout: int, sh: str, script_path: str, subject: str) -> List[str]:
    """A transient timer + service: the service runs the script ``timeout`` seconds from now.

    ``AccuracySec=1s``: a timer's default accuracy is one minute. ``--collect``: the units go once they ran.
    """
    return [systemd_run, "--unit=%s" % unit, "--description=nixperf.tuning magic rollback of %s" % subject,
            "--on-active=%ds" % int(timeout), "--timer-property=AccuracySec=1s", "--collect", sh, script_path]


def cancel_argv(systemctl: str, unit: str) -> List[str]:
    """Stop the timer: its service never starts."""
    return [systemctl, "stop", "%s.timer" % unit]


# ---------------------------------------------------------------- I/O


def resolve_tools(module, previous_system: Optional[str]) -> Dict[str, str]:
    """Absolute paths of TOOLS that stay valid after the switch: the previous system's own
    (``<system>/sw/bin/<tool>``) first, else the one on the search path with its directory's links resolved
    (so never through ``/run/current-system``, which the switch moves)."""
    from ansible_collections.nixperf.tuning.plugins.module_utils.cmd import NIX_BIN_DIRS

    out = {}
    missing = []
    for tool in TOOLS:
        own = os.path.join(previous_system, "sw", "bin", tool) if previous_system else None
        if own and os.access(own, os.X_OK):
            out[tool] = own
            continue
        found = module.get_bin_path(tool, required=False, opt_dirs=NIX_BIN_DIRS)
        if not found:
            missing.append(tool)
            continue
        out[tool] = os.path.join(os.path.realpath(os.path.dirname(found)), os.path.basename(found))
    if missing:
        raise ValueError("the rollback script needs %s, found neither in %s/sw/bin nor on the search path"
                         % (", ".join(missing), previous_system))
    return out


def write_script(directory: str, unit: str, text: str) -> str:
    """Write the script atomically, readable by root only; return its path."""
    os.makedirs(directory, mode=0o755, exist_ok=True)
    path = paths(directory, unit)["script"]
    fd, tmp = tempfile.mkstemp(prefix=".%s-" % unit, dir=directory)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(tmp, 0o700)
    os.replace(tmp, path)
    return path


def decide(directory: str, unit: str, as_what: str) -> Optional[str]:
    """Take the decision for ``as_what`` (CONFIRMED, "cancelled"); None when taken, else the earlier one
    (ROLLED_BACK when the script took it)."""
    d = paths(directory, unit)["decided"]
    try:
        os.mkdir(d)
    except FileExistsError:
        for _i in range(50):  # the winner writes its name right after its mkdir
            names = os.listdir(d)
            if names:
                return names[0]
            time.sleep(0.1)
        return ROLLED_BACK
    with open(os.path.join(d, as_what), "w"):
        pass
    return None


def outcome(directory: str, unit: str) -> Optional[int]:
    """The exit status the script recorded, None while it has not finished."""
    try:
        with open(paths(directory, unit)["outcome"]) as f:
            return int(f.read().strip() or "1")
    except (OSError, ValueError):
        return None


def armed_at_text(stamp: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(stamp))
