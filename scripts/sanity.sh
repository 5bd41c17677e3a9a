#!/usr/bin/env bash
# Run `ansible-test sanity` for nixperf.tuning, offline apart from PyPI.
#
#   scripts/sanity.sh                   every sanity test
#   scripts/sanity.sh --test pylint     extra arguments go to `ansible-test sanity`
#
# ansible-test only accepts a collection checked out as
# .../ansible_collections/<namespace>/<name> (it resolves symlinks), so the
# collection's files (tracked and untracked-but-not-ignored) are copied into
# .cache/sanity/ansible_collections/nixperf/tuning, refreshed on every run, and
# tested there. Results land in that copy's tests/output/; only ansible-test's
# delegation virtualenv (tests/output/.tmp/delegation) is kept between runs.
set -euo pipefail

repo=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)
venv_bin=$repo/.venv/bin
stage=$repo/.cache/sanity
dest=$stage/ansible_collections/nixperf/tuning

die() {
    printf 'sanity.sh: %s\n' "$*" >&2
    exit 1
}

[[ -x $venv_bin/ansible-test && -x $venv_bin/python ]] ||
    die "no virtualenv with ansible-test at $repo/.venv: run 'make setup' first"
export PATH="$venv_bin:$PATH"

# The Makefile exports settings for playbook runs; ansible-test brings its own.
unset ANSIBLE_CONFIG ANSIBLE_COLLECTIONS_PATH ANSIBLE_COLLECTIONS_PATHS

# The shellcheck sanity test is silently skipped without shellcheck.
if ! command -v shellcheck >/dev/null; then
    if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
        echo "shellcheck missing: installing Debian's shellcheck"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck >/dev/null 2>&1 ||
            { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck; }
    else
        die "shellcheck is required: run 'sudo apt-get install shellcheck' (Debian/Ubuntu) or install it"
    fi
fi

# ansible-test bootstraps pip in each of its virtualenvs with get-pip.py, downloaded
# from ci-files.testing.ansible.com (unreachable here) unless already cached. Cache a
# stand-in that bootstraps pip from the standard library (ensurepip) and then
# installs the requested pip from PyPI. ansible-test's requirements.py looks for it
# at os.path.expanduser('~/.ansible/test/cache/get_pip_<version>.py') (HOME, not
# ANSIBLE_HOME). A real get-pip.py already in the cache is left alone.
python_version=$("$venv_bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
ansible_test_root=$("$venv_bin/python" -c 'import ansible_test, os; print(os.path.dirname(ansible_test.__file__))')
pip_version=$(sed -n "s/^ *pip='\([0-9][0-9.]*\)',\$/\1/p" "$ansible_test_root/_internal/python_requirements.py")
[[ $pip_version =~ ^[0-9]+(\.[0-9]+)+$ ]] ||
    die "cannot find the pip version in $ansible_test_root/_internal/python_requirements.py"
get_pip=$("$venv_bin/python" -c 'import os, sys; print(os.path.expanduser("~/.ansible/test/cache/" + sys.argv[1]))' \
    "get_pip_${pip_version//./_}.py")
marker='# get-pip stand-in written by nixperf.tuning scripts/sanity.sh'
stand_in=$(cat <<EOF
$marker
"""Offline stand-in for get-pip.py: pip from ensurepip, then pip install ARGS."""
import subprocess
import sys

args = [arg for arg in sys.argv[1:] if arg not in ('--no-setuptools', '--no-wheel')]
subprocess.check_call([sys.executable, '-m', 'ensurepip', '--upgrade', '--default-pip'])
subprocess.check_call([sys.executable, '-m', 'pip', 'install'] + args)
if '--no-setuptools' in sys.argv[1:]:
    # ensurepip of Python < 3.12 also installs setuptools; get-pip.py would not
    subprocess.check_call([sys.executable, '-m', 'pip', 'uninstall', '--yes', '--quiet', 'setuptools'])
EOF
)
if [[ ! -e $get_pip ]] || { head -n 1 -- "$get_pip" | grep -qxF -- "$marker" &&
    [[ $(<"$get_pip") != "$stand_in" ]]; }; then
    mkdir -p -- "$(dirname -- "$get_pip")"
    printf '%s\n' "$stand_in" >"$get_pip.tmp"
    mv -f -- "$get_pip.tmp" "$get_pip"
fi

# Refresh the copy: everything but the delegation virtualenv is replaced.
# .collections holds a link back to the repository root (a loop), and files
# deleted from the work tree but still tracked are skipped.
delegation=tests/output/.tmp/delegation
venv_keep=$stage/delegation
rm -rf -- "$venv_keep"
if [[ -d $dest/$delegation ]]; then
    mv -- "$dest/$delegation" "$venv_keep"
fi
rm -rf -- "$dest"
mkdir -p -- "$dest"
files=()
while IFS= read -r -d '' file; do
    [[ $file == .collections/* ]] && continue
    if [[ -e $repo/$file || -L $repo/$file ]]; then
        files+=("$file")
    fi
done < <(git -C "$repo" ls-files -z -co --exclude-standard)
(( ${#files[@]} )) || die "git lists no files in $repo"
printf '%s\0' "${files[@]}" | tar -C "$repo" --null --no-recursion -T - -cf - | tar -C "$dest" -xf -
if [[ -d $venv_keep ]]; then
    mkdir -p -- "$(dirname -- "$dest/$delegation")"
    mv -- "$venv_keep" "$dest/$delegation"
fi
# ansible-test lists content with git when it finds a .git at or above the copy;
# the repository's own would report the copy as ignored, so give it its own.
git -C "$dest" init -q

cd -- "$dest"
exec "$venv_bin/ansible-test" sanity --venv --python "$python_version" "$@"
