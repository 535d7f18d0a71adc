#!/bin/sh
# run.sh: one bestpatch run, identical for every backend. Plain POSIX sh, so
# that minimal images (no bash) work too.
#
# Inputs (in $BP_DIR):  candidate.patch (absent: base run) and touched (the
#   paths it changes, "F path" or "L path"), both written by the executor
#   after it vetted the candidate: no .git/, no absolute or '..' paths, no
#   writes through links the patch makes, no test files; tests/<n>.patch with
#   tests/<n>.id, command (the test command), activate (optional shell prefix).
# Env: BP_DIR, BP_TIMEOUT (seconds), BP_REPORT (junit report path, optional),
#   BP_CLEAN (the work tree is known to be reset already), BP_TIMES (mark
#   each step's end on stderr, for measurements).
# Must run with the repository root as the working directory.
#
# Stdout carries only the test command's output (stdout and stderr merged):
# that is what gets parsed. Stderr carries this script's own lines, the ones
# that start with "bestpatch:" being machine-read markers.
set -u
mark() { printf 'bestpatch:%s\n' "$*" >&2; }
# Step marks for measurements only (BP_TIMES set): where a run's time goes.
# The executor reads the time when each mark arrives; a date(1) per mark
# would cost a process start (1.3 ms in a container on fuse-overlayfs)
# that measured runs pay and others do not.
stamp() { [ -z "${BP_TIMES:-}" ] || mark "t=$1"; }
stamp begin

# Every tool the script needs, named when missing: a minimal image fails
# here with the fix, not later with "command not found" in the middle of
# the output.
missing=""
need() {
	for tool in "$@"; do
		command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
	done
}
need git timeout cat cp rm date
[ -s "$BP_DIR/candidate.patch" ] && need patch
if [ -n "$missing" ]; then
	mark "infra=missing tools:$missing: the run script needs git, timeout (coreutils), cat, cp, rm, date and, to apply a candidate, GNU patch; install them in the image (or on the host's PATH for the local executor)"
	exit 3
fi

# A repository owned by another user (a container run as Environment.User)
# would otherwise stop git with "dubious ownership". Pathspecs are literal:
# a file named '*' is a file, not a glob.
git() { command git -c safe.directory='*' --literal-pathspecs "$@"; }

# The base commit and its tree, in one git call.
revs=$(git rev-parse HEAD 'HEAD^{tree}' 2>/dev/null) || { mark "infra=not a git repository: $(pwd)"; exit 3; }
nl='
'
base=${revs%%"$nl"*} basetree=${revs#*"$nl"}
# slurp sets $text to a file's content without its final newlines, as
# $(cat) would, with shell builtins: a process start per file read costs
# more than the read.
slurp() {
	text=""
	while IFS= read -r _line || [ -n "$_line" ]; do text="$text$_line$nl"; done <"$1"
	while :; do case $text in *"$nl") text=${text%"$nl"} ;; *) break ;; esac; done
}
clean() { git reset -q --hard "$base" && git clean -qfd; }
# BP_CLEAN: the sandbox reset the tree before its run was known (the Docker
# backend's containers made ahead), so it is clean already.
if [ -z "${BP_CLEAN:-}" ]; then
	clean >&2 || { mark "infra=cannot reset the work tree"; exit 3; }
fi
stamp reset

if [ -s "$BP_DIR/candidate.patch" ]; then
	# Links already in the repository (tracked, or left ignored in the image)
	# are only visible here: a patch may not write through one.
	while IFS= read -r line || [ -n "$line" ]; do
		kind=${line%% *} p=${line#* }
		d=$p
		while :; do
			case $d in */*) d=${d%/*} ;; *) break ;; esac
			if [ -L "$d" ]; then
				mark "refused=the patch writes $p through $d, a symbolic link in the repository: a patch may not write through links"
				exit 0
			fi
		done
		if [ "$kind" = F ] && [ -L "$p" ]; then
			mark "refused=the patch changes $p as a regular file, and it is a symbolic link in the repository: a patch may not write through links"
			exit 0
		fi
	done <"$BP_DIR/touched"

	applied=""
	for method in git-apply git-apply-recount patch-fuzz; do
		# The first method starts from the clean tree; a later one from what
		# the failed one left.
		[ "$method" = git-apply ] || clean >&2
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
	# The tree the candidate leaves, by content: two candidates with the
	# same tree are the same change, whatever their text; the base's tree
	# if it changed nothing. Only the touched paths can have changed; -f
	# counts them even where .gitignore would hide them. They are staged in
	# an index of the run's own, read from the base's tree, so that the
	# repository's index stays as the reset left it: unstaging them there
	# (git reset) would stat every file of the work tree, slow on
	# fuse-overlayfs.
	GIT_INDEX_FILE=$BP_DIR/index
	export GIT_INDEX_FILE
	git read-tree "$base" || { mark "infra=cannot read the base tree into an index in $BP_DIR"; exit 3; }
	while IFS= read -r line || [ -n "$line" ]; do
		git add -A -f -- "${line#* }" >/dev/null 2>&1
	done <"$BP_DIR/touched"
	tree=$(git write-tree)
	unset GIT_INDEX_FILE
	if [ "$tree" = "$basetree" ]; then
		mark "empty"
		exit 0
	fi
	mark "tree=$tree"
fi
stamp apply

if [ -d "$BP_DIR/tests" ]; then
	set -- "$BP_DIR"/tests/*.patch
	[ -e "$1" ] || shift $#
	# All in one git call first: each call costs a process start, 0.3 s in a
	# busy container on fuse-overlayfs. One stream of all the patches is
	# applied in order, each on what the earlier ones left, as one at a time
	# would, and nothing is written unless all apply (git apply of several
	# files would keep the ones before a failure). When one does not apply,
	# they go one at a time, from the same tree, so that each is reported;
	# git's complaint about the stream is dropped, each one's follows.
	if [ $# -gt 0 ] && cat -- "$@" | git apply --whitespace=nowarn 2>"$BP_DIR/tests.err"; then
		[ -s "$BP_DIR/tests.err" ] && cat "$BP_DIR/tests.err" >&2
		for p; do
			slurp "${p%.patch}.id"
			mark "test-apply=ok $text"
		done
	else
		for p; do
			slurp "${p%.patch}.id"
			id=$text
			if git apply --whitespace=nowarn "$p" >&2; then
				mark "test-apply=ok $id"
			else
				mark "test-apply=failed $id"
			fi
		done
	fi
fi

activate=""
[ -s "$BP_DIR/activate" ] && slurp "$BP_DIR/activate" && activate=$text
slurp "$BP_DIR/command"
testcmd=$text
# The test command is written for bash (SWE-bench's `source ...activate`);
# an image without bash runs it with sh, and says so.
shell=bash
if ! command -v bash >/dev/null 2>&1; then
	shell=sh
	printf 'bestpatch: bash is not installed: the test command runs with sh\n' >&2
fi
# timeout(1) runs the command in its own process group and kills the group.
# Its exit status cannot tell a timeout from an OOM kill, so the clock decides.
limit=${BP_TIMEOUT:-1800}
[ -n "${BP_REPORT:-}" ] && rm -f -- "$BP_REPORT" # a stale report must not count
start=$(date +%s)
stamp command
timeout -s KILL "$limit" "$shell" -c "${activate:+$activate && }$testcmd" 2>&1
code=$?
stamp end
if [ "$code" -eq 137 ] && [ $(($(date +%s) - start)) -ge "$limit" ]; then
	mark "timeout"
fi
if [ -n "${BP_REPORT:-}" ]; then
	cp -f -- "$BP_REPORT" "$BP_DIR/report.xml" 2>/dev/null || mark "report=missing $BP_REPORT"
fi
mark "exit=$code"
exit 0
