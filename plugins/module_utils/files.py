# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nixperf.tuning contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write a batch of generated files on the target: all or nothing.

Used by the ``nix_file`` and ``write_files`` modules.  The flow is

1. with a host ``root``, read the writer's record of what it generated there
   (``ownership.py``): files of a phase the plan speaks for that the plan no
   longer contains are planned for removal;
2. read every file's current content and compute the new one (index files
   included), so check mode knows exactly what would change or go;
3. stage each changed file as a temp file next to its destination;
4. validate all staged Nix files with one ``nix-instantiate --parse``;
5. only when every file is valid: back up, then ``atomic_move`` each into
   place, remove the stale files (each backed up first), update the record.

A failure in 1-4 leaves every destination untouched.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ansible.module_utils.common.text.converters import to_bytes, to_native, to_text
from ansible_collections.nixperf.tuning.plugins.module_utils import cmd
from ansible_collections.nixperf.tuning.plugins.module_utils.nix import (
    GENERATED_MARKER,
    NixError,
    header_comment,
    nix_index,
    nix_module,
    render,
)
from ansible_collections.nixperf.tuning.plugins.module_utils.ownership import (
    DATA_DIR,
    ManifestError,
    Record,
    adopted_phase,
    content_hash,
    dump_manifest,
    index_dirs,
    index_members,
    manifest_path,
    parse_manifest,
    record,
    relative_to,
    scope_of,
    stale,
)

VALIDATE_CHOICES = ["auto", "always", "never"]

# Option spec of one file entry, shared by nix_file (top level) and
# write_files (each element of ``files``).
CONTENT_SPEC: Dict[str, Any] = dict(
    content=dict(type="str"),
    data=dict(type="raw"),
    module=dict(
        type="dict",
        options=dict(
            phase=dict(type="str", required=True),
            config=dict(type="dict", required=True),
            description=dict(type="str"),
            enable=dict(type="bool", default=True),
        ),
    ),
    raw_fragments=dict(type="list", elements="str", default=[]),
)
CONTENT_EXCLUSIVE = [("content", "data", "module")]
CONTENT_REQUIRED = [("content", "data", "module")]


class WriteError(Exception):
    """A batch that must not be written; the message says why."""


def render_entry(entry: Dict[str, Any], role: str) -> Tuple[str, List[str]]:
    """Content and raw fragments of one entry given as content, data or module."""
    if entry.get("content") is not None:
        return entry["content"], list(entry.get("raw_fragments") or [])
    try:
        if entry.get("module") is not None:
            m = entry["module"]
            return nix_module(
                m["phase"], m["config"], role=role, description=m.get("description"),
                enable=m.get("enable", True),
            )
        text, raw = render(entry["data"])
    except NixError as exc:
        raise WriteError("%s: %s" % (entry.get("path"), exc)) from exc
    return header_comment(role) + text + "\n", raw


def is_nix_path(path: str) -> bool:
    return path.endswith(".nix")


def index_modules(existing: Sequence[str], planned: Sequence[str]) -> List[str]:
    """File names default.nix must import: generated modules already there or planned."""
    names = set(existing) | set(planned)
    names.discard("default.nix")
    return sorted(n for n in names if n.endswith(".nix"))


_IMPORT_RE_TEMPLATE = r"(?<![A-Za-z0-9_.-])(?:\./|%s/)%s(?:/default\.nix)?(?![A-Za-z0-9_-])"


def imports_dir(text: str, dir_path: str) -> bool:
    """Whether a Nix file's text refers to the generated directory.

    Accepts ``./nixperf``, ``./nixperf/default.nix`` and the absolute path.
    Comments are ignored so that a commented-out import does not count.
    """
    base = os.path.basename(dir_path.rstrip("/"))
    parent = re.escape(os.path.dirname(dir_path.rstrip("/")))
    pattern = re.compile(_IMPORT_RE_TEMPLATE % (parent, re.escape(base)))
    code = "\n".join(re.sub(r"#.*$", "", ln) for ln in text.splitlines())
    code = re.sub(r"/\*.*?\*/", "", code, flags=re.S)
    return bool(pattern.search(code))


def relative_import(directory: str, candidates: Sequence[str]) -> str:
    """How a configuration file beside ``directory`` imports it (``./nixperf``)."""
    parent = os.path.dirname(directory.rstrip("/"))
    if candidates and os.path.dirname(candidates[0]) == parent:
        return "./" + os.path.basename(directory.rstrip("/"))
    return directory


def unified_header(path: str, exists: bool, removed: bool = False) -> Dict[str, str]:
    return {
        "before_header": path if exists else "%s (absent)" % path,
        "after_header": "%s (absent)" % path if removed else path,
    }


class Batch:
    """A set of files to write on the target, driven by an AnsibleModule."""

    def __init__(self, module, role: str, validate: str = "auto", backup: bool = False) -> None:
        self.module = module
        self.role = role
        self.validate = validate
        self.backup = backup
        self.entries: List[Dict[str, Any]] = []
        self.messages: List[str] = []
        # With a root (``own``): the host root, the record as read, the records kept, the stale files.
        self.root: Optional[str] = None
        self.manifest_text: Optional[str] = None
        self.records: Optional[Dict[str, Record]] = None
        self.removals: List[Dict[str, Any]] = []

    # -- planning ---------------------------------------------------------
    def add(self, entry: Dict[str, Any], index: bool = False) -> None:
        path = entry["path"]
        if not os.path.isabs(path):
            raise WriteError("path %r must be absolute" % path)
        if any(e["path"] == path for e in self.entries):
            raise WriteError("path %s is given twice in one batch" % path)
        content, raw = render_entry(entry, self.role)
        self.entries.append(dict(
            path=path,
            content=content,
            raw=raw,
            mode=entry.get("mode") or "0644",
            validate=entry.get("validate", True) and is_nix_path(path),
            phase=entry.get("phase"),
            index=index,
        ))

    def own(self, root: str, scope: Optional[Sequence[str]], indexes: Sequence[str]) -> List[str]:
        """Take over the writer's record under ``root``; plan the removal of stale files.

        Reads ``<root>/var/lib/nixperf/manifest.json``, adopts generated files found in the index directories
        (files written before the record existed), and marks for removal every recorded file of a phase in
        ``scope`` (default: the phases of the planned files) that the plan no longer contains.  Returns the index
        directories to generate: ``indexes`` plus every directory whose ``default.nix`` the writer made (and
        that is still there).
        """
        root = os.path.normpath(root)
        for e in self.entries:
            if not relative_to(e["path"], root):
                raise WriteError("%s is outside the root %s, whose record of generated files only names files "
                                 "below it" % (e["path"], root))
        self.root = root
        path = manifest_path(root)
        self.manifest_text = self._read(path)
        records: Dict[str, Record] = {}
        if self.manifest_text is not None:
            try:
                records = parse_manifest(self.manifest_text, root)
            except ManifestError as exc:
                raise WriteError("cannot read the record of generated files %s: %s. Move it away and run again: "
                                 "the writer then adopts the generated files it finds" % (path, exc)) from exc
        dirs: List[str] = []
        # a default.nix the writer made stays valid when its modules go, even if no longer planned
        kept = [d for d in index_dirs(records) if os.path.isfile(os.path.join(d, "default.nix"))]
        for d in [i.rstrip("/") for i in indexes] + kept:
            if d not in dirs:
                dirs.append(d)
        self._adopt(records, dirs)
        planned = {e["path"] for e in self.entries}
        for p in stale(records, planned, scope_of(scope, [e["phase"] for e in self.entries])):
            rec = records.pop(p)
            current = self._read(p)
            if current is None:
                continue  # already gone: only the record goes
            if content_hash(current) != rec["sha256"]:
                # a file of any kind that is still exactly what the writer wrote is its own; an edited one is
                # still its own while it carries the generated header, else its user has taken it over
                if not current.startswith(GENERATED_MARKER):
                    self.messages.append("%s was edited and no longer carries the generated header: left in place "
                                         "and no longer managed" % p)
                    continue
                self.messages.append("%s was edited since it was generated; it is removed, its content kept in "
                                     "the backup" % p)
            self.removals.append({"path": p, "before": current})
        self.records = {p: r for p, r in records.items() if p in planned or os.path.isfile(p)}
        return dirs

    def _adopt(self, records: Dict[str, Record], dirs: Sequence[str]) -> None:
        """Record generated files found where a phase writes them (``<dir>/<phase>.nix``, ``<dir>/profile/*``)."""
        for d in dirs:
            for sub in (d, os.path.join(d, DATA_DIR)):
                names = sorted(os.listdir(sub)) if os.path.isdir(sub) else []
                for name in names:
                    full = os.path.join(sub, name)
                    phase = adopted_phase(sub, name, dirs)
                    if full in records or phase is None or not os.path.isfile(full) or not self._generated(full):
                        continue
                    records[full] = record(phase, self._read(full) or "")

    def add_index(self, directory: str) -> None:
        """Plan ``<directory>/default.nix`` importing the generated modules there.

        With a record (``own``): the modules planned now and those the writer owns and keeps.  Without one:
        the modules planned now and every file there carrying the generated header.
        """
        directory = directory.rstrip("/")
        planned = [e["path"] for e in self.entries]
        if self.records is not None:
            modules = index_members(directory, planned + list(self.records))
        else:
            existing = []
            if os.path.isdir(directory):
                for name in os.listdir(directory):
                    full = os.path.join(directory, name)
                    if name.endswith(".nix") and os.path.isfile(full) and self._generated(full):
                        existing.append(name)
            modules = index_modules(existing, index_members(directory, planned))
        self.add(dict(path=os.path.join(directory, "default.nix"),
                      content=nix_index(modules, role=self.role)), index=True)

    @staticmethod
    def _generated(path: str) -> bool:
        try:
            with open(path, "rb") as f:
                return f.read(len(GENERATED_MARKER)) == GENERATED_MARKER.encode()
        except OSError:
            return False

    def require_import(self, directory: str, candidates: Sequence[str], host: str) -> None:
        """Fail unless one of ``candidates`` imports ``directory``."""
        seen = []
        for c in candidates:
            if os.path.isfile(c):
                seen.append(c)
                with open(c, "rb") as f:
                    if imports_dir(to_text(f.read(), errors="surrogate_or_replace"), directory):
                        return
        where = ", ".join(seen) if seen else "none of %s exists" % ", ".join(candidates)
        raise WriteError(
            "host %s: the generated modules in %s are not imported by the host's configuration "
            "(checked: %s). Add `imports = [ %s ];` to the host's configuration.nix (or `%s` to "
            "the `modules` list of its flake), then run again."
            % (host, directory, where, relative_import(directory, candidates), directory)
        )

    def shadow(self, source: str, dest: str) -> str:
        """Copy ``source`` to ``dest`` with the planned files laid over it.

        Check mode only: an evaluator can then see exactly the configuration a
        real run would produce, while the host's own tree stays untouched.
        """
        source, dest = source.rstrip("/"), dest.rstrip("/")
        if os.path.exists(dest):
            shutil.rmtree(dest)
        if os.path.isdir(source):
            shutil.copytree(source, dest, symlinks=True, ignore=shutil.ignore_patterns("*~", ".nixperf-*"))
        else:
            os.makedirs(dest)
        for e in self.entries:
            if not e["path"].startswith(source + "/"):
                continue
            target = os.path.join(dest, os.path.relpath(e["path"], source))
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "wb") as f:
                f.write(to_bytes(e["content"], errors="surrogate_or_strict"))
        for r in self.removals:
            target = os.path.join(dest, os.path.relpath(r["path"], source))
            if r["path"].startswith(source + "/") and os.path.lexists(target):
                os.unlink(target)
        return dest

    # -- execution --------------------------------------------------------
    def run(self) -> Dict[str, Any]:
        check = self.module.check_mode
        results, diffs = [], []
        for e in self.entries:
            before = self._read(e["path"])
            e["exists"] = before is not None
            e["changed"] = before != e["content"]
            if e["changed"]:
                d = unified_header(e["path"], e["exists"])
                d.update(before=before or "", after=e["content"])
                diffs.append(d)
        for r in self.removals:
            d = unified_header(r["path"], True, removed=True)
            d.update(before=r["before"], after="")
            diffs.append(d)
        staged = self._stage([e for e in self.entries if e["changed"]], check)
        try:
            manifest = self._stage_record(staged, check)  # before validation: an unwritable record fails early
            self._validate(staged)
            for e in self.entries:
                r = dict(path=e["path"], changed=e["changed"], created=not e["exists"],
                         validated=e.get("validated", False))
                if e["changed"] and not check:
                    if self.backup and e["exists"]:
                        r["backup_file"] = self.module.backup_local(e["path"])
                    self.module.atomic_move(staged[e["path"]], e["path"])
                    staged.pop(e["path"])
                attrs_changed = self._attributes(e, check)
                r["changed"] = e["changed"] or attrs_changed
                results.append(r)
            for gone in self.removals:
                r = dict(path=gone["path"], changed=True, removed=True)
                if not check:
                    r["backup_file"] = self.module.backup_local(gone["path"])  # always: removal loses content
                    try:
                        os.unlink(gone["path"])
                    except OSError as exc:
                        raise WriteError("cannot remove %s: %s" % (gone["path"], to_native(exc))) from exc
                results.append(r)
            if manifest is not None:
                if manifest["path"] in staged:
                    # last, once every file is in place; backed up when the write kept backups
                    if not manifest["created"] and any("backup_file" in r for r in results):
                        manifest["backup_file"] = self.module.backup_local(manifest["path"])
                    self.module.atomic_move(staged.pop(manifest["path"]), manifest["path"])
                    os.chmod(manifest["path"], 0o644)
                results.append(manifest)
        finally:
            for tmp in staged.values():
                if os.path.exists(tmp):
                    os.unlink(tmp)
        files = [r for r in results if not r.get("manifest")]
        return dict(changed=any(r["changed"] for r in files), files=results, diff=diffs,
                    changed_files=[r["path"] for r in files if r["changed"]],
                    removed_files=[r["path"] for r in files if r.get("removed")])

    def _stage_record(self, staged: Dict[str, str], check: bool) -> Optional[Dict[str, Any]]:
        """The record of generated files after this write; staged next to it (in ``staged``) when it changes.

        Bookkeeping, not configuration: it never makes the task changed on its own, so a converged host reports
        changed=0 even on the run that first records (adopts) its files; an unchanged record is not rewritten.
        """
        if self.root is None or self.records is None:
            return None
        records = dict(self.records)
        for e in self.entries:
            records[e["path"]] = record(e["phase"], e["content"], e["index"])
        path = manifest_path(self.root)
        text = dump_manifest(records, self.root)
        r: Dict[str, Any] = dict(path=path, manifest=True, changed=text != self.manifest_text,
                                 created=self.manifest_text is None)
        if r["changed"] and not check:
            try:
                self._makedirs(os.path.dirname(path))
                fd, tmp = tempfile.mkstemp(prefix=".nixperf-", suffix=".json.tmp", dir=os.path.dirname(path))
                staged[path] = tmp
                with os.fdopen(fd, "wb") as f:
                    f.write(to_bytes(text, errors="surrogate_or_strict"))
                os.chmod(tmp, 0o644)
            except OSError as exc:
                raise WriteError("cannot write the record of generated files %s: %s" % (path, to_native(exc))) from exc
        return r

    def _read(self, path: str) -> Optional[str]:
        if os.path.isdir(path):
            raise WriteError("%s is a directory, not a file" % path)
        try:
            with open(path, "rb") as f:
                return to_text(f.read(), errors="surrogate_or_strict")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeError) as exc:
            raise WriteError("cannot read %s: %s" % (path, to_native(exc))) from exc

    def _stage(self, entries: List[Dict[str, Any]], check: bool) -> Dict[str, str]:
        """Write each changed file to a temp file; in check mode outside the target tree."""
        staged: Dict[str, str] = {}
        try:
            for e in entries:
                directory = os.path.dirname(e["path"])
                if check:
                    tmp_dir = self.module.tmpdir
                else:
                    self._makedirs(directory)
                    tmp_dir = directory
                fd, tmp = tempfile.mkstemp(prefix=".nixperf-", suffix=".nix.tmp", dir=tmp_dir)
                with os.fdopen(fd, "wb") as f:
                    f.write(to_bytes(e["content"], errors="surrogate_or_strict"))
                staged[e["path"]] = tmp
        except OSError as exc:
            for tmp in staged.values():
                os.unlink(tmp)
            raise WriteError("cannot stage %s: %s" % (e["path"], to_native(exc))) from exc
        return staged

    def _makedirs(self, directory: str) -> None:
        if not os.path.isdir(directory):
            os.makedirs(directory, 0o755)

    def _validate(self, staged: Dict[str, str]) -> None:
        todo = [e for e in self.entries if e["changed"] and e["validate"]]
        if self.validate == "never" or not todo:
            return
        binary = cmd.find_nix_instantiate(self.module)
        if not binary:
            if self.validate == "always":
                raise WriteError(
                    "validate=always but nix-instantiate was not found on the target "
                    "(install Nix, e.g. Debian's nix-bin, or set validate=auto)")
            self.messages.append("nix-instantiate not found on the target: generated files were not parsed")
            return
        rc, _out, err = cmd.run(self.module, cmd.parse_argv(binary, [staged[e["path"]] for e in todo]),
                                env=cmd.PARSE_ENV, timeout=120)
        if rc == 0:
            for e in todo:
                e["validated"] = True
            return
        # Slow path, only on failure: find the file and the raw fragment at fault.
        for e in todo:
            rc, _out, err = cmd.run(self.module, cmd.parse_argv(binary, [staged[e["path"]]]),
                                    env=cmd.PARSE_ENV, timeout=120)
            if rc == 0:
                continue
            err = err.replace(staged[e["path"]], e["path"])
            for fragment in e["raw"]:
                frc, _o, ferr = cmd.run(self.module, cmd.parse_expr_argv(binary, cmd.fragment_expr(fragment)),
                                        env=cmd.PARSE_ENV, timeout=60)
                if frc != 0:
                    raise WriteError(
                        "%s: the raw Nix fragment %r does not parse: %s"
                        % (e["path"], fragment, cmd.stderr_tail(ferr, 6)))
            raise WriteError("%s does not parse as Nix: %s" % (e["path"], cmd.stderr_tail(err)))
        raise WriteError("nix-instantiate --parse failed: %s" % cmd.stderr_tail(err))

    def _attributes(self, e: Dict[str, Any], check: bool) -> bool:
        if check and not e["exists"]:
            return False  # created with the right attributes; counted as content change
        args = self.module.load_file_common_arguments(self.module.params, path=e["path"])
        args["mode"] = e["mode"]
        return self.module.set_fs_attributes_if_different(args, False)


def restore(module, entries: Sequence[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Put back what a write replaced: each file from its backup, files it created removed.

    ``entries`` are the ``files`` of a write result; unchanged ones are skipped.  A file the write removed comes
    back from its backup; the record of generated files (``manifest: true``) from its backup too, or, when the
    write kept no backups, stays as it is (it names files that may be gone; the next write drops those).
    """
    plan = []
    for e in entries:
        if not e.get("changed"):
            continue
        path = e["path"]
        if e.get("backup_file"):
            if not os.path.isfile(e["backup_file"]):
                raise WriteError("cannot restore %s: its backup %s is gone" % (path, e["backup_file"]))
            plan.append((path, e["backup_file"]))
        elif e.get("created"):
            plan.append((path, None))
        elif e.get("manifest"):
            continue
        elif e.get("removed"):
            raise WriteError("cannot restore %s: the write that removed it kept no backup (a check-mode result?)"
                             % path)
        else:
            raise WriteError("cannot restore %s: it was replaced without a backup (write_backup is false)" % path)
    done = []
    for path, backup in plan:
        if backup is None:
            exists = os.path.exists(path)
            if exists and not module.check_mode:
                os.unlink(path)
            done.append({"path": path, "removed": True, "changed": exists})
            continue
        with open(backup, "rb") as f:
            data = f.read()
        current = None
        if os.path.exists(path):
            with open(path, "rb") as f:
                current = f.read()
        if current != data and not module.check_mode:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".nixperf-", dir=os.path.dirname(path))
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            shutil.copymode(backup, tmp)
            module.atomic_move(tmp, path)
        done.append({"path": path, "restored_from": backup, "changed": current != data})
    return done


def result_message(result: Dict[str, Any], check: bool) -> str:
    n = len(result["changed_files"])
    files = [f for f in result["files"] if not f.get("manifest")]
    removed = len(result.get("removed_files") or [])
    verb = "would change" if check else "changed"
    msg = "%d of %d file(s) %s" % (n, len(files), verb)
    if removed:
        msg += " (%d %s)" % (removed, "to be removed" if check else "removed")
    return msg


def render_for_controller(entry: Dict[str, Any], role: str) -> Dict[str, Any]:
    """Action-plugin side: turn data/module into content before the module runs."""
    if entry.get("content") is not None:
        return dict(entry)
    content, raw = render_entry(entry, role)
    out = {k: v for k, v in entry.items() if k not in ("data", "module")}
    out.update(content=content, raw_fragments=raw)
    return out


__all__ = [
    "Batch", "WriteError", "restore", "CONTENT_SPEC", "CONTENT_EXCLUSIVE", "CONTENT_REQUIRED",
    "VALIDATE_CHOICES", "render_entry", "render_for_controller", "index_modules",
    "imports_dir", "relative_import", "result_message",
]


def write_files_spec() -> Dict[str, Any]:
    """The argument spec of write_files (the module, and the action when it writes in-process)."""
    entry = dict(
        path=dict(type="path", required=True),
        mode=dict(type="raw", default="0644"),
        validate=dict(type="bool", default=True),
        phase=dict(type="str"),
    )
    entry.update(CONTENT_SPEC)
    return dict(
        files=dict(type="list", elements="dict", required=True, options=entry,
                   mutually_exclusive=CONTENT_EXCLUSIVE, required_one_of=CONTENT_REQUIRED),
        indexes=dict(type="list", elements="path", default=[]),
        root=dict(type="path"),
        scope=dict(type="list", elements="str"),
        shadow=dict(type="dict", options=dict(
            source=dict(type="path", required=True),
            dest=dict(type="path", required=True),
        )),
        home_shadow=dict(type="list", elements="dict", default=[], options=dict(
            user=dict(type="str", required=True),
            source=dict(type="path", required=True),
            dest=dict(type="path", required=True),
        )),
        require_import=dict(type="dict", options=dict(
            directory=dict(type="path", required=True),
            candidates=dict(type="list", elements="path", required=True),
        )),
        host=dict(type="str", default="target"),
        role=dict(type="str", default="write_files"),
        validate=dict(type="str", choices=VALIDATE_CHOICES, default="auto"),
        backup=dict(type="bool", default=False),
        in_process=dict(type="bool", default=True),
        plan=dict(type="dict"),
        shadow_dir=dict(type="path"),
    )


def write_batch(module, p: Dict[str, Any]) -> Dict[str, Any]:
    """Write one batch as the write_files module does; ``module`` is an AnsibleModule or a ControllerModule."""
    batch = Batch(module, role=p["role"], validate=p["validate"], backup=p["backup"])
    try:
        if p["require_import"]:
            batch.require_import(p["require_import"]["directory"], p["require_import"]["candidates"], p["host"])
        for entry in p["files"]:
            batch.add(entry)
        indexes = p["indexes"]
        if p["root"]:
            indexes = batch.own(p["root"], p["scope"], indexes)
        for directory in indexes:
            batch.add_index(directory)
        result = batch.run()
        if module.check_mode:
            if p["shadow"]:
                result["shadow_root"] = batch.shadow(p["shadow"]["source"], p["shadow"]["dest"])
            if p["home_shadow"]:
                result["home_shadows"] = {h["user"]: batch.shadow(h["source"], h["dest"]) for h in p["home_shadow"]}
    except WriteError as exc:
        raise WriteError("Failed to write the generated files of host %s: %s" % (p["host"], exc)) from exc
    for m in batch.messages:
        module.warn(m)
    result["msg"] = result_message(result, module.check_mode)
    return result
