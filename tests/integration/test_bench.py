"""benchmarks/bench.py --quick: the machinery works and the figures that do not depend on timing hold."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quick_bench(tmp_path):
    out = tmp_path / "bench.json"
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks/bench.py"), "--quick", "--json", str(out),
                           "--work", str(tmp_path / "work")], capture_output=True, text=True, check=False,
                          timeout=900)
    assert out.exists(), proc.stdout[-3000:] + proc.stderr[-3000:]
    result = json.loads(out.read_text())
    rows = {r["figure"]: r for r in result["rows"]}
    assert proc.returncode == (0 if result["all_met"] else 1)
    assert "| figure" in proc.stdout and result["table"] in proc.stdout
    deterministic = [
        "no-op converge: changed tasks",
        "no-op + check runs: rebuild/home-manager/chezmoi started",
        "no-op + check runs: nix-instantiate started",
        "first converge: nix-instantiate started",
        "naive output byte-identical to ours",
        "nixos-rebuild per no-op run: ours vs naive",
        "apply-mode no-op: nixos-rebuild + home-manager calls",
    ]
    for figure in deterministic:
        assert rows[figure]["met"] is True, rows[figure]
    assert rows["first converge: nix-instantiate started"]["ours"] == 3  # one batched parse per host
    assert rows["nixos-rebuild per no-op run: ours vs naive"]["reference"] == 3  # the naive way rebuilds every time
    timed = [r for r in result["rows"] if r["unit"] == "s"]
    assert len(timed) >= 6 and all(r["ours"] > 0 for r in timed)
    assert set(result["raw"]["fleet"]) == {"1", "2", "10"}
