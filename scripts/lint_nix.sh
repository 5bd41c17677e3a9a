#!/usr/bin/env bash
# Lint the generated Nix (`make lint-nix`: after `make run` rendered every host into ./build).
#
#   scripts/lint_nix.sh                 every .nix file under ./build
#   scripts/lint_nix.sh PATH...         every .nix file under each PATH (a directory or a file)
#
# 1. nix-instantiate --parse on every file: required; a file that does not parse fails the run.
# 2. Where installed, the linters of the boot / startup / compile plan's CI step, each failing the run on a finding:
#      nixfmt --check FILE...            NixOS/nixfmt main/Main.hs (8ecc356892ba05d368ed376b1ce9f47f8af47837):
#                                        --check reports the files that are not formatted
#      statix check --unrestricted PATH  oppiliappan/statix v0.5.8 (d324490e45bcda1b664f28b6f88da8580deda76b),
#                                        bin/src/config.rs and lint.rs: one target per call, exit 1 on a lint;
#                                        --unrestricted, as ./build is in .gitignore, which statix honours otherwise
#      deadnix --fail FILE...            astro/deadnix src/main.rs (d590041677add62267bef35ddec63cd9402d3505):
#                                        --fail exits 1 when unused code was found
#    None of them is packaged for Debian 12 or on PyPI (the PyPI "statix" is an unrelated statistics library), so
#    a machine set up by `make setup` has none: each says so and is skipped, never faked.
#
# Exit status: 0 when every file parses and no installed linter found anything; 1 otherwise; 2 for a usage error
# (a path that does not exist, no .nix file at all, or nix-instantiate missing).
set -uo pipefail

NOT_PACKAGED="it is not packaged for this machine's Debian / PyPI"

usage_error() {
    printf 'lint_nix.sh: %s\n' "$*" >&2
    exit 2
}

if (($# == 0)); then
    set -- build
fi

files=()
for path in "$@"; do
    if [[ -d $path ]]; then
        while IFS= read -r -d '' file; do
            files+=("$file")
        done < <(find "$path" -type f -name '*.nix' -print0 | sort -z)
    elif [[ -f $path ]]; then
        files+=("$path")
    else
        usage_error "$path: no such file or directory (make lint-nix renders ./build first: make run)"
    fi
done
((${#files[@]} > 0)) || usage_error "no .nix file under $*"

command -v nix-instantiate >/dev/null ||
    usage_error "nix-instantiate: not installed: it is required (Debian: apt-get install nix-bin; make setup does)"

failed=0

# --parse needs no store; the dummy store keeps nix-instantiate from looking for a daemon.
parse_errors=0
for file in "${files[@]}"; do
    if ! error=$(NIX_REMOTE=${NIX_REMOTE:-dummy://} nix-instantiate --parse "$file" 2>&1 >/dev/null); then
        printf 'nix-instantiate --parse: %s does not parse:\n%s\n' "$file" "$error"
        parse_errors=$((parse_errors + 1))
    fi
done
printf 'nix-instantiate --parse: %d file(s), %d parse error(s)\n' "${#files[@]}" "$parse_errors"
((parse_errors == 0)) || failed=1

# run NAME ARGS...: an installed linter, its output as it is, a finding fails the run
run() {
    local name=$1
    shift
    if "$name" "$@"; then
        printf '%s: no finding\n' "$name"
    else
        printf '%s: findings (exit status %d): %s %s\n' "$name" "$?" "$name" "$*"
        failed=1
    fi
}

if command -v nixfmt >/dev/null; then
    run nixfmt --check "${files[@]}"
else
    printf 'nixfmt: not installed, skipped (%s)\n' "$NOT_PACKAGED"
fi

if command -v statix >/dev/null; then
    # one path per call: statix 0.5.8, its latest release, takes a single target
    for path in "$@"; do
        run statix check --unrestricted "$path"
    done
else
    printf 'statix: not installed, skipped (%s)\n' "$NOT_PACKAGED"
fi

if command -v deadnix >/dev/null; then
    run deadnix --fail "${files[@]}"
else
    printf 'deadnix: not installed, skipped (%s)\n' "$NOT_PACKAGED"
fi

exit "$failed"
