# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The I/O of the owned-keys step (module ``desktop_keys``): read, write, run chezmoi, stop and start services.

``ownedkeys.plan_user`` decides; this file only carries it out, through an AnsibleModule (or the controller
adapter of ``module_utils/controller.py``).  Commands run as the user when the step runs as root
(``runuser -u <user> -- env HOME=... <command>``), never through a shell; their exact command lines are built by
the ``*_argv`` functions, which the tests assert against a recording double.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ansible_collections.nixperf.tuning.plugins.module_utils.desktop import BACKENDS, CHEZMOI_SOURCE, OwnedKey
from ansible_collections.nixperf.tuning.plugins.module_utils.ownedkeys import (
    STORE, OwnedKeysError, UserPlan, dump_store, key_id, load_store, plan_user)

# Where a NixOS user's programs are, besides PATH: home-manager's per-user profile, the user's own profile, the
# system's.
USER_BIN_DIRS = ("/etc/profiles/per-user/{user}/bin", "{home}/.nix-profile/bin", "/run/current-system/sw/bin")
# KDE creates its rc files readable by the user only; RustDesk's files hold its keys.
NEW_FILE_MODE = 0o600


def desktop_keys_spec() -> Dict[str, Any]:
    """The module's argument spec (shared by the module and the in-process action)."""
    return dict(
        root=dict(type="path", default="/"),
        mode=dict(type="str", choices=["render", "apply"], default="render"),
        backend=dict(type="str", choices=list(BACKENDS), default="chezmoi"),
        users=dict(type="list", elements="dict", required=True, options=dict(
            name=dict(type="str", required=True),
            home=dict(type="path"),
            keys=dict(type="list", elements="dict", default=[], no_log=False),
            chezmoi_scripts=dict(type="dict", default={}),
        )),
        store=dict(type="str", default=STORE),
        chezmoi_source=dict(type="str", default=CHEZMOI_SOURCE),
        reload=dict(type="bool", default=True),
        scope=dict(type="list", elements="str"),
        host=dict(type="str", default="target"),
    )


class SyncError(Exception):
    """The step cannot go on; nothing more is written."""


def as_user(user: str, env: Dict[str, str], argv: Sequence[str], root_runs: bool) -> List[str]:
    """``argv`` run as ``user`` with ``env``: through runuser when the step runs as root, else directly."""
    pairs = ["%s=%s" % (k, v) for k, v in sorted(env.items())]
    if root_runs and user != "root":
        return ["runuser", "-u", user, "--", "env"] + pairs + list(argv)
    return ["env"] + pairs + list(argv)


def chezmoi_argv(chezmoi: str, source: str, home: str, targets: Sequence[str], check: bool) -> List[str]:
    """``chezmoi apply`` of exactly the owned files (``--dry-run --verbose`` in check mode)."""
    argv = [chezmoi, "apply", "--no-tty", "--source", source, "--destination", home]
    argv += ["--dry-run", "--verbose"] if check else ["--force"]
    return argv + ["--"] + [os.path.join(home, t) for t in targets]


def kwin_reconfigure_argv() -> List[str]:
    """KWin rereads kwinrc (``qdbus org.kde.KWin /KWin reconfigure``, with dbus-send, which every NixOS has)."""
    return ["dbus-send", "--session", "--dest=org.kde.KWin", "--type=method_call", "/KWin",
            "org.kde.KWin.reconfigure"]


def session_bus(uid: int) -> str:
    """The user's D-Bus session socket (systemd's per-user runtime directory)."""
    return "/run/user/%d/bus" % uid


def systemctl_argv(action: str, unit: str) -> List[str]:
    return ["systemctl", action, unit]


def read_text(path: str) -> Optional[str]:
    try:
        with open(path, "rb") as handle:
            return handle.read().decode("utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise SyncError("cannot read %s: %s" % (path, exc)) from exc


class Step:
    """One run of the step on one host."""

    def __init__(self, module: Any, params: Dict[str, Any]) -> None:
        self.module = module
        self.p = params
        self.check = bool(module.check_mode)
        self.apply = params["mode"] == "apply"
        self.root_runs = hasattr(os, "geteuid") and os.geteuid() == 0
        self.commands: List[List[str]] = []

    # -- commands ---------------------------------------------------------
    def run(self, argv: List[str], what: str, must: bool = True) -> Tuple[int, str, str]:
        self.commands.append(argv)
        rc, out, err = self.module.run_command(argv)
        if rc != 0 and must:
            hint = ""
            if "inconsistent state" in (err or out):
                hint = (" (the user's chezmoi source already holds another entry for one of these files; chezmoi takes "
                        "one source per target: remove that entry, or set nixperf_desktop.backend to plasma_manager or "
                        "direct)")
            raise SyncError("%s failed (exit %d): %s%s" % (what, rc, (err or out).strip()[-2000:], hint))
        return rc, out, err

    def find(self, name: str, user: str, home: str) -> Optional[str]:
        dirs = [d.format(user=user, home=home) for d in USER_BIN_DIRS]
        return self.module.get_bin_path(name, required=False, opt_dirs=dirs)

    # -- files ------------------------------------------------------------
    @staticmethod
    def owner(home: str) -> Tuple[int, int]:
        st = os.stat(home)
        return st.st_uid, st.st_gid

    def write(self, home: str, path: str, text: Optional[str], owner: Optional[Tuple[int, int]]) -> None:
        """Replace ``path`` atomically (a symbolic link: the file it points to); None removes it."""
        path = os.path.realpath(path)
        if text is None:
            if os.path.exists(path):
                os.unlink(path)
            return
        directory = os.path.dirname(path)
        if not os.path.isdir(directory):
            os.makedirs(directory, mode=0o700)
            if owner and self.root_runs:
                self._chown_up(home, directory, owner)
        existing = os.stat(path) if os.path.exists(path) else None
        fd, tmp = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(text.encode("utf-8"))
            os.chmod(tmp, existing.st_mode & 0o7777 if existing else NEW_FILE_MODE)
            if self.root_runs:
                uid, gid = (existing.st_uid, existing.st_gid) if existing else (owner or (0, 0))
                os.chown(tmp, uid, gid)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    @staticmethod
    def _chown_up(home: str, directory: str, owner: Tuple[int, int]) -> None:
        """Give the directories this step created below the home directory to the user."""
        current = directory
        while current.startswith(home + os.sep):
            st = os.stat(current)
            if st.st_uid == 0 and owner[0] != 0:
                os.chown(current, owner[0], owner[1])
            current = os.path.dirname(current)

    # -- one user ---------------------------------------------------------
    def user(self, spec: Dict[str, Any]) -> Dict[str, Any]:
        name = spec["name"]
        home = spec.get("home") or os.path.join(self.p["root"], "home", name)
        backend = self.p["backend"]
        try:
            owned = [OwnedKey.from_dict(k) for k in spec.get("keys") or []]
            phases = {key_id(k["file"], k.get("format", "kconfig"), k["group"], k["key"]): k["phase"]
                      for k in spec.get("keys") or [] if k.get("phase")}
        except (KeyError, TypeError, ValueError) as exc:
            raise SyncError("user %s: bad owned key: %s" % (name, exc)) from exc
        store_path = os.path.join(home, self.p["store"])
        store = load_store(read_text(store_path), store_path)
        if not owned and not store:
            return {"user": name, "changed": False}
        if not os.path.isdir(home):
            if self.apply:
                raise SyncError("user %s has no home directory %s" % (name, home))
            if not self.check:
                os.makedirs(home)
        plan = plan_user(owned, store, lambda f: read_text(os.path.join(home, f)), backend, phases, self.p["scope"])
        owner = self.owner(home) if os.path.isdir(home) else None
        new_store = dump_store(plan.store)
        store_changed = new_store != read_text(store_path)
        files_changed = [f for f, (b, a) in sorted(plan.texts.items()) if (b or "") != a]
        # chezmoi runs in apply mode only: render mode shows its source tree instead
        chezmoi_targets = sorted(f for f, predicted in plan.external.items() if plan.texts.get(f, (None, ""))[1]
                                 != predicted) if self.apply else []
        result: Dict[str, Any] = {
            "user": name, "recorded": plan.recorded, "restored": plan.restored, "set": list(plan.set_keys),
            "pending": list(plan.pending),
            "files": files_changed, "chezmoi_targets": chezmoi_targets,
            "live": plan.live,
        }
        result["diff"] = [dict(before=b or "", after=a, before_header=os.path.join(home, f),
                               after_header=os.path.join(home, f))
                          for f, (b, a) in sorted(plan.texts.items()) if (b or "") != a]
        result["diff"] += [dict(before=plan.texts.get(f, (None, ""))[1], after=plan.external[f],
                                before_header=os.path.join(home, f), after_header="%s (chezmoi)" % os.path.join(home, f))
                           for f in chezmoi_targets]
        result["changed"] = bool(files_changed or store_changed or chezmoi_targets)
        chezmoi = None
        if chezmoi_targets:
            chezmoi = self.find("chezmoi", name, home)
            if chezmoi is None:
                raise SyncError("user %s: chezmoi is not installed on the host (looked in PATH and %s), so the "
                                "chezmoi backend cannot put %s in place; install it (pkgs.chezmoi), or set "
                                "nixperf_desktop.backend to direct or plasma_manager"
                                % (name, ", ".join(d.format(user=name, home=home) for d in USER_BIN_DIRS),
                                   ", ".join(chezmoi_targets)))
        env = {"HOME": home}
        if self.check:
            if chezmoi:
                self.chezmoi_dry_run(name, home, env, chezmoi, chezmoi_targets, spec.get("chezmoi_scripts") or {})
            return result
        units = self.stop_units(plan) if self.apply else []
        try:
            for f in files_changed:
                # an empty text: the give-back left nothing in a file the collection created
                self.write(home, os.path.join(home, f), plan.texts[f][1] or None, owner)
            if chezmoi:
                source = os.path.join(home, self.p["chezmoi_source"])
                self.run(as_user(name, env, chezmoi_argv(chezmoi, source, home, chezmoi_targets, False),
                                 self.root_runs), "chezmoi apply for user %s" % name)
                result["set"] += result["pending"]
                result["pending"] = []
                wrong = [f for f in chezmoi_targets if read_text(os.path.join(home, f)) != plan.external[f]]
                if wrong:
                    self.module.warn("user %s: after chezmoi apply, %s differ from what the owned keys give; is "
                                     "the chezmoi source %s up to date?" % (name, ", ".join(wrong), source))
            if store_changed:
                self.write(home, store_path, new_store, owner)
        finally:
            for unit in units:
                self.run(systemctl_argv("start", unit), "starting %s again" % unit)
        result["restarted"] = units
        result["reloaded"] = self.reload(name, home, plan, env) if self.apply else []
        return result

    def stop_units(self, plan: UserPlan) -> List[str]:
        """Stop the services whose files change (they rewrite them while running); those running come back."""
        stopped = []
        for bucket in sorted(plan.live):
            if not bucket.startswith("service:"):
                continue
            unit = bucket[len("service:"):]
            rc, _out, _err = self.run(systemctl_argv("is-active", unit), "systemctl is-active", must=False)
            if rc == 0:
                self.run(systemctl_argv("stop", unit), "stopping %s" % unit)
                stopped.append(unit)
        return stopped

    def reload(self, user: str, home: str, plan: UserPlan, env: Dict[str, str]) -> List[str]:
        """KWin rereads its configuration when it runs in the user's session (its bus socket exists)."""
        if not self.p["reload"] or "kwin" not in plan.live:
            return []
        try:
            uid = os.stat(home).st_uid
        except OSError:
            return []
        bus = session_bus(uid)
        if not os.path.exists(bus):
            return []
        env = dict(env, DBUS_SESSION_BUS_ADDRESS="unix:path=" + bus, XDG_RUNTIME_DIR=os.path.dirname(bus))
        rc, _out, err = self.run(as_user(user, env, kwin_reconfigure_argv(), self.root_runs), "KWin reconfigure",
                                 must=False)
        if rc != 0:
            self.module.warn("user %s: KWin did not reload its configuration (%s); the change applies at the next "
                             "login" % (user, err.strip()))
            return []
        return ["kwin"]

    def chezmoi_dry_run(self, user: str, home: str, env: Dict[str, str], chezmoi: str, targets: Sequence[str],
                        scripts: Dict[str, str]) -> None:
        """``chezmoi apply --dry-run`` over a scratch copy of the source with the planned scripts laid over it."""
        source = os.path.join(home, self.p["chezmoi_source"])
        scratch = tempfile.mkdtemp(prefix="nixperf-chezmoi-")
        try:
            shadow = os.path.join(scratch, "source")
            if os.path.isdir(source):
                shutil.copytree(source, shadow, symlinks=True)
            else:
                os.makedirs(shadow)
            for rel, content in sorted(scripts.items()):
                path = os.path.join(shadow, rel)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "w", encoding="utf-8") as handle:
                    handle.write(content)
            if self.root_runs:
                uid, gid = self.owner(home)
                for directory, _dirs, names in os.walk(scratch):
                    os.chown(directory, uid, gid)
                    for n in names:
                        os.lchown(os.path.join(directory, n), uid, gid)
            self.run(as_user(user, env, chezmoi_argv(chezmoi, shadow, home, targets, True), self.root_runs),
                     "chezmoi apply --dry-run for user %s" % user)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)


def sync(module: Any, params: Dict[str, Any]) -> Dict[str, Any]:
    """Run the step for every user of ``params``; the task result."""
    step = Step(module, params)
    users: List[Dict[str, Any]] = []
    try:
        for spec in params["users"]:
            users.append(step.user(spec))
    except (SyncError, OwnedKeysError) as exc:
        return {"failed": True, "changed": any(u.get("changed") for u in users) and not step.check,
                "msg": "host %s: %s" % (params["host"], exc), "users": users, "commands": step.commands}
    diff = [d for u in users for d in u.pop("diff", [])]
    changed = any(u.get("changed") for u in users)
    login = sorted(set(k for u in users for b, keys in (u.get("live") or {}).items() if b == "login" for k in keys))
    result: Dict[str, Any] = {"changed": changed, "users": users, "commands": step.commands, "needs_login": login}
    if getattr(module, "_diff", False):
        result["diff"] = diff
    parts = []
    for u in users:
        if u.get("changed"):
            parts.append("%s: %d set, %d given back, %d recorded" % (u["user"], len(u.get("set", [])),
                                                                     len(u.get("restored", [])),
                                                                     len(u.get("recorded", []))))
    result["msg"] = "; ".join(parts) if parts else "every owned key in place"
    if login:
        result["msg"] += "; takes effect at the next login: %s" % ", ".join(login)
    return result
