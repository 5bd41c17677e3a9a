"""Helpers shared by the unit and the integration tests (each tier has its own conftest)."""
from __future__ import annotations

import os
import shutil
import stat
import subprocess
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Union

import pytest

# stdenv.mkDerivation as far as an override can tell (nixpkgs pkgs/stdenv/generic/make-derivation.nix, checkedEnv):
# a name in env and at the top level is refused, env values must be strings, booleans or integers; overrideAttrs
# merges. A Nix attribute binding, for a stub ``pkgs`` / ``prev``.
MKDERIVATION = """mkDerivation = attrs:
    let
      env = attrs.env or { };
      overlapping = builtins.attrNames (builtins.intersectAttrs env (builtins.removeAttrs attrs [ "env" ]));
      badEnv = builtins.filter (n: !(builtins.isString env.${n} || builtins.isBool env.${n} || builtins.isInt env.${n}))
        (builtins.attrNames env);
    in
    if overlapping != [ ] then throw ("The `env` attribute set cannot contain any attributes passed to derivation. "
      + "The following attributes are overlapping: ${toString overlapping}")
    else if badEnv != [ ] then throw ("The `env` attribute set can only contain derivation, string, boolean or integer "
      + "attributes: ${toString badEnv}")
    else { inherit attrs; overrideAttrs = f: mkDerivation (attrs // f attrs); };"""


def snapshot(root: Union[str, Path]) -> Dict[str, Any]:
    """Content, mtime and mode of every file below ``root`` (empty when absent): equal snapshots mean nothing was
    touched."""
    out: Dict[str, Any] = {}
    for dirpath, _dirs, names in os.walk(root):
        for n in names:
            p = os.path.join(dirpath, n)
            st = os.stat(p)
            with open(p, "rb") as f:
                out[p] = (f.read(), st.st_mtime_ns, stat.S_IMODE(st.st_mode))
    return out


def wait_for(predicate: Callable[[], bool], seconds: float = 15.0) -> bool:
    """Poll ``predicate`` every 0.1 s until it holds (True) or ``seconds`` pass (False)."""
    end = time.time() + seconds
    while time.time() < end:
        if predicate():
            return True
        time.sleep(0.1)
    return False


class KConfigTools:
    """The real KConfig command-line tools, with a private HOME and XDG_CONFIG_HOME."""

    def __init__(self, read: str, write: str) -> None:
        self.read_binary, self.write_binary = read, write

    @staticmethod
    def env(home: Path, language: str = "") -> Dict[str, str]:
        env = dict(os.environ, HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), LANG="C.UTF-8",
                   LC_ALL="C.UTF-8", QT_QPA_PLATFORM="offscreen")
        env.pop("LANGUAGE", None)
        if language:
            env["LANGUAGE"] = language
        return env

    @staticmethod
    def _groups(path: Sequence[str]) -> List[str]:
        args: List[str] = []
        for group in path or ("<default>",):
            args += ["--group", group]
        return args

    def read(self, file: Path, path: Sequence[str], key: str, language: str = "") -> str:
        proc = subprocess.run([self.read_binary, "--file", str(file.resolve()), *self._groups(path), "--key", key],
                              capture_output=True, env=self.env(file.parent, language), timeout=60, check=True)
        out = proc.stdout.decode("utf-8")  # bytes: text mode would turn "\r\n" into "\n"
        assert out.endswith("\n"), out
        return out[:-1]

    def write(self, file: Path, path: Sequence[str], key: str, value: str, check: bool = True) -> int:
        proc = subprocess.run([self.write_binary, "--file", str(file.resolve()), *self._groups(path), "--key", key, value],
                              capture_output=True, env=self.env(file.parent), timeout=60, check=check)
        return proc.returncode


def kconfig_tools() -> KConfigTools:
    """The real kreadconfig5 / kwriteconfig5; a test that needs them fails (never skips) without them."""
    read, write = shutil.which("kreadconfig5"), shutil.which("kwriteconfig5")
    if not read or not write:
        pytest.fail("kreadconfig5 and kwriteconfig5 are required (Debian: apt-get install libkf5config-bin); "
                    "the Makefile set-up installs them")
    return KConfigTools(read, write)


# A live host for the validate / benchmark probes: /proc/meminfo of a 16 GiB machine.
MEMINFO = "MemTotal:       16314104 kB\nMemFree:         9123456 kB\nMemAvailable:   12512340 kB\n" \
          "Buffers:          123456 kB\nCached:          2345678 kB\nSwapTotal:      12235776 kB\nSwapFree:  12235776 kB\n"


class FakeHost:
    """A host: files under root, commands answered from a table, every command recorded."""

    def __init__(self, root: Path, nixos: bool = True) -> None:
        self.root = root
        self.calls: List[List[str]] = []
        self.envs: List[Optional[Dict[str, str]]] = []
        self.answers: Dict[str, Any] = {}
        self.tools: Dict[str, str] = {}
        self.put("proc/meminfo", MEMINFO)
        if nixos:
            self.put("etc/NIXOS", "")

    def put(self, rel: str, text: str) -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    def run(self, argv, env):
        self.calls.append(list(argv))
        self.envs.append(env)
        name = os.path.basename(argv[0])
        answer = self.answers.get(name, (127, "", "%s: not found" % name))
        return answer(argv, env) if callable(answer) else answer

    def which(self, name):
        return self.tools.get(name)

    def host(self, files_root: Optional[str] = None):
        from ansible_collections.nixperf.tuning.plugins.module_utils.verify import Host

        return Host(str(self.root), self.run, self.which, files_root)

    def process(self, pid: int, comm: str, uid: int = 1000, environ: Optional[Dict[str, str]] = None) -> None:
        self.put("proc/%d/comm" % pid, comm + "\n")
        self.put("proc/%d/status" % pid, "Name:\t%s\nUid:\t%d\t%d\t%d\t%d\nVmRSS:\t  204800 kB\n" % (comm, uid, uid, uid, uid))
        if environ is not None:
            self.put("proc/%d/environ" % pid, "\0".join("%s=%s" % kv for kv in environ.items()) + "\0")


MINIMODULES = Path(__file__).resolve().parent / "minimodules.nix"


def eval_modules(nix: Any, *modules: Union[str, Path], pkgs: Optional[str] = None, attr: str = "config") -> Any:
    """Evaluate ``modules`` (paths of module files, or Nix text of inline modules) with the test module system
    (``tests/minimodules.nix``) and the real evaluator; ``pkgs`` is Nix text of a stub package set. Returns the
    merged ``config`` (or ``options``: each declared option's default) as data; functions print as
    ``"<function>"``. Fails with the evaluator's message when the modules do not evaluate."""
    parts = ["(%s)" % m if isinstance(m, str) else str(Path(m).resolve()) for m in modules]
    expr = "(import %s { modules = [ %s ]; pkgs = %s; }).%s" % (MINIMODULES, " ".join(parts), pkgs or "{ }", attr)
    return nix.eval_json(expr)
