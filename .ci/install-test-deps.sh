#!/bin/sh
# install-test-deps.sh: install the Debian packages bestpatch's tests use,
# when they are missing, so that `make test` passes on a fresh machine.
#
#   git, patch          apply candidates and test patches (executor, selector)
#   python3-pytest      real pytest suites (executor, generator, selector, service)
#   python3-django      Django's test runner (executor's django format)
#   python3-sympy       sympy's test runner (executor's sympy format)
#   mmdebstrap          the offline Docker test images (testdata/images/build.sh)
#   chromium            renders the batch report (selector/batch/report)
#
# The Docker engine is not installed here: the Docker tests skip without
# one (.ci/run installs and starts it). Run as root, or as a user who may
# sudo without a password; otherwise the script says what to run.
set -eu

packages="git patch python3-pytest python3-django python3-sympy mmdebstrap chromium"

if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "make test: no dpkg-query here: the tests expect a Debian system with the packages $packages (or their equivalents, with Debian's python3 at /usr/bin/python3)" >&2
	exit 1
fi
missing=""
for p in $packages; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q ' installed$' || missing="$missing $p"
done
[ -n "$missing" ] || exit 0

if [ "$(id -u)" -eq 0 ]; then
	as_root=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
	as_root="sudo -n"
else
	echo "make test: the tests need the Debian packages$missing, and this user can neither install them (not root) nor sudo without a password: run \`sudo apt-get install -y$missing\`, then make test again" >&2
	exit 1
fi
echo "make test: installing the Debian packages the tests use:$missing"
# shellcheck disable=SC2086 # word splitting is meant
$as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
# shellcheck disable=SC2086
$as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
