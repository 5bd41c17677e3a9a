# nixperf.tuning: the README's two commands are `make run` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
export PATH := $(BIN):$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/.collections:$(CURDIR)/$(VENV)/collections
export ANSIBLE_HOME := $(CURDIR)/.ansible
export NIX_REMOTE ?= dummy://
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help setup nix kde run test bench generate unit integration nixpkgs molecule lint lint-nix sanity clean

help:
	@echo "make run    set up (venv, pinned deps, nix-instantiate) and render every host into ./build/, then say how"
	@echo "            to validate and benchmark a live host"
	@echo "make test   set up, then every test tier: pytest, molecule, ansible-lint, ansible-test sanity"
	@echo "            (tiers alone: make unit | integration | nixpkgs | molecule | lint | sanity)"
	@echo "            (make nixpkgs runs only with NIXPKGS=<nixpkgs checkout or folder with its lib/>)"
	@echo "make generate  phase roles' defaults / argument specs / tasks from their declarations"
	@echo "make bench  set up, then measure the performance targets: one table, JSON in benchmarks/results/"
	@echo "make lint-nix  render ./build (make run), then nix-instantiate --parse every generated .nix, and nixfmt /"
	@echo "            statix / deadnix where installed (LINT_NIX_PATHS=... lints more paths)"

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

# $(call apt_tool,COMMAND,DEBIAN PACKAGE): install the package with apt when COMMAND is missing (as root), else say
# what to install.
define apt_tool
	@if command -v $(1) >/dev/null; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "$(1) missing: installing Debian's $(2)"; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(2) >/dev/null 2>&1 || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(2); }; \
	else \
	  echo "$(1) is required: run 'sudo apt-get install $(2)' (Debian/Ubuntu) or install it otherwise" >&2; \
	  exit 1; \
	fi
endef

# nix-instantiate (Nix's evaluator) checks every generated file; Debian ships it as nix-bin.
nix:
	$(call apt_tool,nix-instantiate,nix-bin)

# kreadconfig5 / kwriteconfig5 (Debian's libkf5config-bin): the real KConfig the KDE config model is checked with;
# gawk beside Debian's mawk: the chezmoi modify_ scripts run with both (NixOS has gawk).
kde:
	$(call apt_tool,kreadconfig5,libkf5config-bin)
	$(call apt_tool,kwriteconfig5,libkf5config-bin)
	$(call apt_tool,gawk,gawk)

# kubernetes.core and kubevirt.core (the kubevirt_vm role) from the pinned ansible wheel, checked by SHA-256: Galaxy is
# not needed (scripts/install_collections.py; requirements.yml names the same versions).
$(VENV)/collections/.nixperf-collections.json: scripts/install_collections.py $(VENV)/.installed
	$(BIN)/python scripts/install_collections.py

setup: $(VENV)/.installed $(VENV)/collections/.nixperf-collections.json nix kde

run: setup
	$(BIN)/ansible-playbook site.yml
	@echo
	@echo "Rendered every host into ./build/. Then, against the live hosts (docs/validate.md, docs/real-host.md):"
	@echo "  ansible-playbook -i inventories/production playbooks/benchmark.yml -e label=baseline"
	@echo "  ansible-playbook -i inventories/production site.yml                 # apply the phases"
	@echo "  ansible-playbook -i inventories/production playbooks/validate.yml   # ok / DRIFT / n/a per check"
	@echo "  ansible-playbook -i inventories/production playbooks/benchmark.yml -e label=optimized"
	@echo "      -> reports/<host>/baseline-vs-optimized.md with charts, a verdict per plan target"
	@echo "  (the same on this machine with the local inventory: ansible-playbook playbooks/validate.yml)"

test: setup
	$(MAKE) --no-print-directory unit integration nixpkgs molecule lint lint-nix sanity

# The performance targets (README, "Performance"): prints the table, writes benchmarks/results/latest.json.
bench: setup
	$(BIN)/python benchmarks/bench.py $(BENCH_ARGS)

# Each phase role's defaults, argument spec, tasks and metadata from its declaration in
# plugins/module_utils/phases/<phase>.py (tests/unit/test_declarations.py fails when they are stale).
generate: $(VENV)/.installed
	$(BIN)/python scripts/generate.py

# pytest exits 5 when it collects nothing: that is a failure here too.
unit:
	$(BIN)/python -m pytest -q tests/unit

# Playbook runs dominate this tier; two workers keep both cores busy (each test has its own temp build, root and
# ANSIBLE_HOME). INTEGRATION_JOBS=0 runs them in this process, one after the other.
INTEGRATION_JOBS ?= 2
integration:
	$(BIN)/python -m pytest -q -p xdist -n $(INTEGRATION_JOBS) tests/integration

# The generated modules with a host's own through nixpkgs' real module system (lib.evalModules). nixpkgs is not
# on Debian nor on PyPI: the tier runs when NIXPKGS names a nixpkgs checkout or a folder with its lib/, and says
# plainly when it did not run.
nixpkgs:
	@if [ -z "$${NIXPKGS:-}" ]; then \
	  echo "tests/nixpkgs DID NOT RUN: NIXPKGS is not set (NIXPKGS=/path/to/nixpkgs make nixpkgs runs it)"; \
	else \
	  $(BIN)/python -m pytest -q -rs tests/nixpkgs tests/unit/test_plasma_manager.py; \
	fi

molecule:
	for scenario in molecule/*/molecule.yml; do \
	  $(BIN)/molecule test -s "$$(basename "$$(dirname "$$scenario")")" || exit 1; \
	done

# ansible-lint installs a copy of this collection under .ansible/ once and then
# reuses it; drop it so the lint always sees the working tree.
lint:
	rm -rf .ansible/collections/ansible_collections/nixperf
	$(BIN)/ansible-lint
	$(BIN)/antsibull-changelog lint

# The generated Nix of every host (scripts/lint_nix.sh): the parse is required, the linters run where installed.
lint-nix: run
	scripts/lint_nix.sh build $(LINT_NIX_PATHS)

sanity:
	scripts/sanity.sh

clean:
	rm -rf build .cache .ansible tests/output .pytest_cache .hypothesis
