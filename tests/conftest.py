"""Shared fixtures: the collection on sys.path, and the real Nix evaluator.

Tests that need ``nix-instantiate`` fail (never skip) when it is missing: the
set-up (``make test``) installs it.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Sequence

import pytest

ROOT = Path(__file__).resolve().parents[1]
COLLECTIONS = ROOT / ".collections"
if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))

NIX_ENV = dict(os.environ, NIX_REMOTE="dummy://", LANG="C", LC_ALL="C")


class Nix:
    """Thin wrapper around the real evaluator."""

    def __init__(self, binary: str) -> None:
        self.binary = binary

    def run(self, args: Sequence[str], expect_ok: bool = True) -> subprocess.CompletedProcess:
        proc = subprocess.run([self.binary, *args], capture_output=True, text=True, env=NIX_ENV, timeout=120,
                              check=False)
        if expect_ok and proc.returncode != 0:
            raise AssertionError("nix-instantiate %s failed:\n%s" % (" ".join(args)[:200], proc.stderr))
        return proc

    def eval_json(self, expr: str) -> Any:
        return json.loads(self.run(["--eval", "--strict", "--json", "-E", expr]).stdout)

    def eval_file_json(self, path: str | Path, attr: str | None = None) -> Any:
        args = ["--eval", "--strict", "--json", str(path)]
        if attr:
            args += ["-A", attr]
        return json.loads(self.run(args).stdout)

    def parses(self, *paths: str | Path) -> bool:
        return self.run(["--parse", *map(str, paths)], expect_ok=False).returncode == 0

    def parse_error(self, expr: str) -> str:
        proc = self.run(["--parse", "-E", expr], expect_ok=False)
        return "" if proc.returncode == 0 else proc.stderr


@pytest.fixture(scope="session")
def nix() -> Nix:
    binary = shutil.which("nix-instantiate")
    if not binary:
        pytest.fail("nix-instantiate is required (Debian: apt-get install nix-bin); `make test` installs it")
    return Nix(binary)


def run_module(main, args: dict, capsys, check: bool = False, diff: bool = True) -> dict:
    """Run a module's main() in-process with ``args``; return its JSON result."""
    from ansible.module_utils.testing import patch_module_args

    full = dict(args, _ansible_check_mode=check, _ansible_diff=diff)
    capsys.readouterr()
    with patch_module_args(full):
        with pytest.raises(SystemExit):
            main()
    out = capsys.readouterr().out
    return json.loads(out)


def run_home_manager(fake, capsys, check: bool = False, **kw):
    """Run the home_manager module for mitsio@shoshin on a fake host: (result, flake directory, profile link)."""
    from ansible_collections.nixperf.tuning.plugins.modules import home_manager

    profile = fake.root / "home" / "mitsio" / ".local/state/nix/profiles/home-manager"
    flake_dir = fake.root / "home" / "mitsio" / ".config" / "home-manager"
    flake_dir.mkdir(parents=True, exist_ok=True)
    if not (flake_dir / "home.nix").exists():
        (flake_dir / "home.nix").write_text("{ }\n")
    args = dict(flake="%s#mitsio@shoshin" % flake_dir, profile=str(profile))
    args.update(kw)
    return run_module(home_manager.main, args, capsys, check=check), flake_dir, profile


DOUBLES = Path(__file__).resolve().parent / "doubles"


class FakeNixOS:
    """A temp root driven by the test doubles in tests/doubles (nixos-rebuild, home-manager, nix, systemctl)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.config = root / "etc" / "nixos" / "configuration.nix"
        self.current = root / "run" / "current-system"
        self.profile = root / "nix" / "var" / "nix" / "profiles" / "system"

    def calls(self, prog: str | None = None) -> list:
        path = self.root / "calls.jsonl"
        if not path.exists():
            return []
        rows = [json.loads(line) for line in path.read_text().splitlines()]
        return [r for r in rows if prog is None or r["prog"] == prog]

    def argvs(self, prog: str) -> list:
        return [r["argv"] for r in self.calls(prog)]

    def clear(self) -> None:
        (self.root / "calls.jsonl").unlink(missing_ok=True)

    def state(self, name: str, value: str) -> None:
        p = self.root / "state" / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(value)

    def env(self) -> dict:
        return {"NIXPERF_FAKE_ROOT": str(self.root), "PATH": "%s:%s" % (DOUBLES, os.environ["PATH"])}

    def boot_first_generation(self) -> str:
        """Install generation 1 from the current configuration, as a fresh NixOS host has."""
        env = dict(os.environ, **self.env())
        subprocess.run(["nixos-rebuild", "switch", "-I", "nixos-config=%s" % self.config], env=env, check=True,
                       capture_output=True, cwd=str(self.root))
        self.clear()
        return os.path.realpath(self.current)


@pytest.fixture
def fake_nixos(tmp_path, monkeypatch) -> FakeNixOS:
    root = tmp_path / "host"
    fake = FakeNixOS(root)
    fake.config.parent.mkdir(parents=True)
    fake.config.write_text("{ ... }: { imports = [ ./nixperf ]; }\n")
    for k, v in fake.env().items():
        monkeypatch.setenv(k, v)
    fake.boot_first_generation()
    return fake
