#!/usr/bin/env bash
# run.sh: one bestpatch run, identical for every backend.
#
# Inputs (in $BP_DIR):  candidate.patch (may be absent: base run),
#   tests/<n>.patch with tests/<n>.id, test-files (one pattern a line),
#   command (the test command), activate (optional shell prefix).
# Env: BP_DIR, BP_TIMEOUT (seconds), BP_REPORT (junit report path, optional).
# Must run with the repository root as the working directory.
#
# Stdout carries only the test command's output (stdout and stderr merged):
# that is what gets parsed. Stderr carries this script's own lines, the ones
# that start with "bestpatch:" being machine-read markers.
set -u
mark() { printf 'bestpatch:%s\n' "$*" >&2; }
# A repository owned by another user (a container run as Environment.User)
# would otherwise stop git with "dubious ownership".
git() { command git -c safe.directory='*' "$@"; }

base=$(git rev-parse --verify -q HEAD) || { mark "infra=not a git repository: $(pwd)"; exit 3; }
clean() { git reset -q --hard "$base" && git clean -qfd; }
clean >&2 || { mark "infra=cannot reset the work tree"; exit 3; }

if [ -s "$BP_DIR/candidate.patch" ]; then
	applied=""
	for method in git-apply git-apply-recount patch-fuzz; do
		clean >&2
		case $method in
		git-apply) git apply --whitespace=nowarn "$BP_DIR/candidate.patch" >&2 ;;
		git-apply-recount) git apply --whitespace=nowarn --recount --ignore-whitespace "$BP_DIR/candidate.patch" >&2 ;;
		patch-fuzz) patch --batch --forward --fuzz=5 -p1 --no-backup-if-mismatch -r /dev/null -i "$BP_DIR/candidate.patch" >&2 ;;
		esac && { applied=$method; break; }
	done
	if [ -z "$applied" ]; then
		clean >&2
		mark "apply=failed"
		exit 0
	fi
	mark "apply=$applied"
	git add -A >/dev/null 2>&1
	if git diff --cached --quiet "$base"; then
		mark "empty"
		exit 0
	fi
	# Test tampering: a candidate may not change the tests that judge it.
	if [ -s "$BP_DIR/test-files" ]; then
		git diff --cached --name-only --no-renames "$base" | while IFS= read -r f; do
			while IFS= read -r pat || [ -n "$pat" ]; do
				[ -n "$pat" ] || continue
				# shellcheck disable=SC2254
				case "$f" in $pat)
					if git cat-file -e "$base:$f" 2>/dev/null; then
						git checkout -q "$base" -- "$f"
					else
						git rm -q -f --cached -- "$f" >/dev/null 2>&1; rm -f -- "$f"
					fi
					mark "restored=$f"
					break ;;
				esac
			done <"$BP_DIR/test-files"
		done
	fi
	# A candidate that only touched test files has nothing left to test.
	if git diff --cached --quiet "$base"; then
		mark "empty"
		exit 0
	fi
	git reset -q
fi

if [ -d "$BP_DIR/tests" ]; then
	for p in "$BP_DIR"/tests/*.patch; do
		[ -e "$p" ] || continue
		id=$(cat "${p%.patch}.id")
		if git apply --whitespace=nowarn "$p" >&2; then
			mark "test-apply=ok $id"
		else
			mark "test-apply=failed $id"
		fi
	done
fi

activate=""
[ -s "$BP_DIR/activate" ] && activate=$(cat "$BP_DIR/activate")
# timeout(1) runs the command in its own process group and kills the group.
# Its exit status cannot tell a timeout from an OOM kill, so the clock decides.
limit=${BP_TIMEOUT:-1800}
[ -n "${BP_REPORT:-}" ] && rm -f -- "$BP_REPORT" # a stale report must not count
start=$(date +%s)
timeout -s KILL "$limit" bash -c "${activate:+$activate && }$(cat "$BP_DIR/command")" 2>&1
code=$?
if [ "$code" -eq 137 ] && [ $(($(date +%s) - start)) -ge "$limit" ]; then
	mark "timeout"
fi
if [ -n "${BP_REPORT:-}" ]; then
	cp -f -- "$BP_REPORT" "$BP_DIR/report.xml" 2>/dev/null || mark "report=missing $BP_REPORT"
fi
mark "exit=$code"
exit 0
