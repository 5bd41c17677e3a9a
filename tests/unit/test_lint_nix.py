"""scripts/lint_nix.sh (make lint-nix): the real nix-instantiate --parse on every file, and the optional linters
(nixfmt, statix, deadnix) called with their exact arguments where installed, skipped and said so where not."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Dict, List, Sequence

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "lint_nix.sh"
GOOD = "{ lib, ... }:\n{\n  boot.initrd.compressor = lib.mkDefault \"zstd\";\n}\n"
BROKEN = "{ lib, ... }:\n{\n  boot.initrd.compressor = lib.mkDefault \"zstd\"\n}\n"  # the ';' is missing
SKIPPED = "%s: not installed, skipped (it is not packaged for this machine's Debian / PyPI)"
# A linter double: records its argv (one JSON line per call) in $LINT_CALLS, prints what $<NAME>_SAYS holds and
# exits with $<NAME>_RC (0 when unset).
DOUBLE = """#!/bin/sh
python3 -c 'import json, sys; print(json.dumps(sys.argv[1:]))' "$@" >> "$LINT_CALLS.%(name)s"
[ -n "${%(var)s_SAYS:-}" ] && printf '%%s\\n' "$%(var)s_SAYS"
exit "${%(var)s_RC:-0}"
"""


@pytest.fixture()
def tree(tmp_path: Path) -> Path:
    """A rendered host: two good files in nested directories, and a file that is not Nix."""
    root = tmp_path / "build"
    (root / "shoshin/etc/nixos/nixperf").mkdir(parents=True)
    (root / "shoshin/etc/nixos/nixperf/boot.nix").write_text(GOOD)
    (root / "shoshin/etc/nixos/configuration.nix").write_text("{ ... }:\n{\n  imports = [ ./nixperf/boot.nix ];\n}\n")
    (root / "shoshin/manifest.json").write_text("{}\n")
    return root


def path_with(tmp_path: Path, linters: Sequence[str]) -> str:
    """A PATH of the tools the script needs (the real nix-instantiate, find, sort, python3 for the doubles) and the
    linter doubles asked for: nothing else, so a linter installed on the machine cannot change the outcome."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for tool in ("bash", "find", "sort", "nix-instantiate", "python3", "sh"):
        found = shutil.which(tool)
        assert found, "%s is required (make setup installs nix-instantiate)" % tool
        if not (bin_dir / tool).exists():
            (bin_dir / tool).symlink_to(found)
    for name in linters:
        double = bin_dir / name
        double.write_text(DOUBLE % {"name": name, "var": name.upper()})
        double.chmod(0o755)
    return str(bin_dir)


def lint(tmp_path: Path, paths: Sequence[str], linters: Sequence[str] = (), cwd: Path = ROOT,
         **env: str) -> subprocess.CompletedProcess:
    full = {"PATH": path_with(tmp_path, linters), "LINT_CALLS": str(tmp_path / "calls"), "HOME": str(tmp_path),
            "NIX_REMOTE": "dummy://", "LANG": "C"}
    full.update(env)
    return subprocess.run([str(SCRIPT), *paths], cwd=str(cwd), env=full, capture_output=True, text=True, timeout=120,
                          check=False)


def calls(tmp_path: Path, name: str) -> List[List[str]]:
    path = Path("%s.%s" % (tmp_path / "calls", name))
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def test_good_files_pass_and_the_missing_linters_say_so(tmp_path: Path, tree: Path) -> None:
    run = lint(tmp_path, [str(tree)])
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.splitlines() == ["nix-instantiate --parse: 2 file(s), 0 parse error(s)",
                                       SKIPPED % "nixfmt", SKIPPED % "statix", SKIPPED % "deadnix"]
    assert run.stderr == ""


def test_a_broken_file_fails_and_is_named(tmp_path: Path, tree: Path) -> None:
    broken = tree / "shoshin/etc/nixos/nixperf/memory.nix"
    broken.write_text(BROKEN)
    run = lint(tmp_path, [str(tree)])
    assert run.returncode == 1
    out = run.stdout.splitlines()
    assert out[0] == "nix-instantiate --parse: %s does not parse:" % broken
    # nix-instantiate's own message, and where: "error: syntax error, unexpected '}', expecting ';'" then the position
    assert out[1] == "error: syntax error, unexpected '}', expecting ';'"
    assert str(broken) in run.stdout[run.stdout.index(out[1]):run.stdout.index("nix-instantiate --parse: 3 file(s)")]
    assert "nix-instantiate --parse: 3 file(s), 1 parse error(s)" in out
    assert out[-3:] == [SKIPPED % "nixfmt", SKIPPED % "statix", SKIPPED % "deadnix"]


def test_the_default_path_is_build_and_a_file_may_be_named(tmp_path: Path, tree: Path) -> None:
    run = lint(tmp_path, [], cwd=tmp_path)  # tmp_path/build is the tree
    assert run.returncode == 0 and run.stdout.startswith("nix-instantiate --parse: 2 file(s), 0 parse error(s)\n")
    broken = tmp_path / "broken.nix"
    broken.write_text(BROKEN)
    run = lint(tmp_path, [str(tree), str(broken)])
    assert run.returncode == 1 and "nix-instantiate --parse: 3 file(s), 1 parse error(s)" in run.stdout


@pytest.mark.parametrize("paths,message", [
    (["/nonexistent/build"], "lint_nix.sh: /nonexistent/build: no such file or directory (make lint-nix renders "
                             "./build first: make run)"),
    (["EMPTY"], "lint_nix.sh: no .nix file under EMPTY"),
])
def test_usage_errors(tmp_path: Path, paths: List[str], message: str) -> None:
    (tmp_path / "empty").mkdir()
    paths = [str(tmp_path / "empty") if p == "EMPTY" else p for p in paths]
    run = lint(tmp_path, paths)
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr.strip() == message.replace("EMPTY", str(tmp_path / "empty"))


def test_without_nix_instantiate_nothing_passes(tmp_path: Path, tree: Path) -> None:
    bare = tmp_path / "bare"
    bare.mkdir()
    for tool in ("find", "sort"):
        (bare / tool).symlink_to(shutil.which(tool))
    proc = subprocess.run([shutil.which("bash"), str(SCRIPT), str(tree)], env={"PATH": str(bare)}, capture_output=True,
                          text=True, timeout=60, check=False)
    assert proc.returncode == 2
    assert "nix-instantiate: not installed: it is required (Debian: apt-get install nix-bin" in proc.stderr


def test_statix_finding_fails_the_run_with_the_exact_arguments(tmp_path: Path, tree: Path) -> None:
    finding = "[W04] Warning: Assignment instead of inherit from"
    run = lint(tmp_path, [str(tree)], linters=["statix"], STATIX_SAYS=finding, STATIX_RC="1")
    assert run.returncode == 1
    assert calls(tmp_path, "statix") == [["check", "--unrestricted", str(tree)]]
    out = run.stdout.splitlines()
    assert out == ["nix-instantiate --parse: 2 file(s), 0 parse error(s)", SKIPPED % "nixfmt", finding,
                   "statix: findings (exit status 1): statix check --unrestricted %s" % tree, SKIPPED % "deadnix"]


def test_every_installed_linter_runs_with_its_exact_arguments(tmp_path: Path, tree: Path) -> None:
    other = tmp_path / "more"
    other.mkdir()
    (other / "extra.nix").write_text(GOOD)
    run = lint(tmp_path, [str(tree), str(other)], linters=["nixfmt", "statix", "deadnix"])
    assert run.returncode == 0, run.stdout
    files = [str(tree / "shoshin/etc/nixos/configuration.nix"), str(tree / "shoshin/etc/nixos/nixperf/boot.nix"),
             str(other / "extra.nix")]
    assert calls(tmp_path, "nixfmt") == [["--check"] + files]
    assert calls(tmp_path, "statix") == [["check", "--unrestricted", str(tree)], ["check", "--unrestricted", str(other)]]
    assert calls(tmp_path, "deadnix") == [["--fail"] + files]
    assert run.stdout.splitlines() == ["nix-instantiate --parse: 3 file(s), 0 parse error(s)", "nixfmt: no finding",
                                       "statix: no finding", "statix: no finding", "deadnix: no finding"]
    # each linter's finding alone fails the run
    for name, says in (("nixfmt", "%s: not formatted" % files[0]), ("deadnix", "Warning: Unused declarations")):
        env: Dict[str, str] = {"%s_SAYS" % name.upper(): says, "%s_RC" % name.upper(): "1"}
        run = lint(tmp_path, [str(tree)], linters=["nixfmt", "statix", "deadnix"], **env)
        assert run.returncode == 1 and says in run.stdout
        assert "%s: findings (exit status 1)" % name in run.stdout


def test_make_lint_nix_is_declared() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "lint-nix: run\n\tscripts/lint_nix.sh build $(LINT_NIX_PATHS)\n" in makefile
    assert " lint-nix " in makefile.split(".PHONY:", 1)[1].splitlines()[0] + " "
    assert os.access(SCRIPT, os.X_OK)
