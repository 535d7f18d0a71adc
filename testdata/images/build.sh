#!/usr/bin/env bash
# build.sh: build bestpatch's test images offline, from Debian packages.
#
# No registry is used: each image starts from a Debian rootfs made by
# mmdebstrap (cached as a tarball keyed by its package list), imported with
# `docker import`, then layered with `docker build` FROM that local image.
# Every image carries a content hash (tag or label); a build whose hash is
# already present is skipped, so a second run takes seconds.
#
# Usage:
#   testdata/images/build.sh [all]                    the default test images: go-base,
#                                                     bestpatch/go-uuid (google/uuid), sympy, sh-only
#                                                     and swebench
#   testdata/images/build.sh go-base                  bestpatch/go-base: Debian + git, patch, bash,
#                                                     coreutils + the host's Go toolchain
#   testdata/images/build.sh go-module MOD@VER [TAG]  a Go module from the module proxy at /testbed
#                                                     (default TAG bestpatch/go-<name>:<ver>)
#   testdata/images/build.sh go-task REPO_DIR TAG     a prepared Go repository on go-base at /testbed
#                                                     (git-committed if it is not a repository yet;
#                                                     module dependencies downloaded now; GOCACHE warmed)
#   testdata/images/build.sh sympy                    bestpatch/sympy: Debian's python3, pytest and
#                                                     sympy, with sympy as the repository at /testbed
#   testdata/images/build.sh sh-only                  bestpatch/sh-only: Debian without bash (git, patch,
#                                                     coreutils; /bin/sh is dash) and a small repository
#                                                     at /testbed with symbolic links out of it
#   testdata/images/build.sh swebench                 SWE-bench stand-in instance images (docs/SWEBENCH.md),
#                                                     tagged as the harness names the instances of the rows
#                                                     in testdata/swebench: sympy (Debian's python3-sympy
#                                                     with a bug) and Django (Debian's python3-django, a
#                                                     test suite of ours, a bug), each also as :garbage, its
#                                                     test runner replaced by one that prints noise
#
# Environment: BESTPATCH_CACHE (default ${XDG_CACHE_HOME:-~/.cache}/bestpatch),
# DEBIAN_MIRROR (default http://deb.debian.org/debian), DEBIAN_SUITE (bookworm),
# GOROOT_HOST (the toolchain copied into go-base; default `go env GOROOT`).
set -euo pipefail
shopt -s inherit_errexit # a failure inside $(...) stops the build too

suite=${DEBIAN_SUITE:-bookworm}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
cache=${BESTPATCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bestpatch}
# Fixed timestamps make the rootfs, the git commits and the layers reproducible.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1704067200}
# The legacy builder uses local images as they are: no pull, no buildx needed.
export DOCKER_BUILDKIT=0

# Bump to invalidate the cached rootfs tarballs (the image tags hash their
# Dockerfiles, so editing those needs no bump).
recipe=1

log() { printf 'images: %s\n' "$*" >&2; }
die() {
	printf 'images: error: %s\n' "$*" >&2
	exit 1
}
hash() { sha256sum | cut -c1-16; }
have_image() { docker image inspect "$1" >/dev/null 2>&1; }

# rootfs PACKAGES...: print the path of a cached Debian rootfs tarball holding
# the essential packages plus PACKAGES, building it on a miss.
rootfs() {
	local key tar
	key=$(printf '%s\n' "$recipe" "$suite" "$mirror" "$@" | hash)
	tar="$cache/rootfs/$suite-$key.tar"
	if [ ! -f "$tar" ]; then
		command -v mmdebstrap >/dev/null || die "mmdebstrap is not installed: run \`apt-get install -y mmdebstrap\`"
		log "mmdebstrap $suite with $* (cached as $tar)"
		# --variant=essential: no apt inside the image (nothing is installed at
		# run time); docs, man pages and locales are dropped to stay small.
		mmdebstrap --quiet --variant=essential --include="$(
			IFS=,
			echo "$*"
		)" \
			--dpkgopt='path-exclude=/usr/share/man/*' \
			--dpkgopt='path-exclude=/usr/share/doc/*' \
			--dpkgopt='path-exclude=/usr/share/locale/*' \
			--dpkgopt='path-exclude=/usr/share/info/*' \
			"$suite" "${tar%.tar}.partial.tar" "$mirror" >&2 || die "mmdebstrap failed for $suite from $mirror: check that the mirror is reachable"
		mv "${tar%.tar}.partial.tar" "$tar"
	fi
	printf '%s\n' "$tar"
}

# rootfs_image TAR: docker import a rootfs tarball (once) and print its tag.
rootfs_image() {
	local tag
	tag=bestpatch/rootfs:$(basename "$1" .tar)
	if ! have_image "$tag"; then
		log "docker import $1 -> $tag"
		docker import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' "$1" "$tag" >/dev/null
	fi
	printf '%s\n' "$tag"
}

# build_context DIR TAG: docker build DIR (holding a Dockerfile) as TAG.
build_context() {
	log "docker build -> $2"
	docker build --quiet --network none -t "$2" "$1" >/dev/null || die "docker build of $2 failed (context $1)"
}

go_packages=(bash coreutils git patch diffutils findutils grep sed)

# go_base_dockerfile FROM: the layer that turns the rootfs into go-base.
go_base_dockerfile() {
	cat <<-EOF
		FROM $1
		COPY go /usr/local/go
		ENV PATH=/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \\
		    GOMODCACHE=/opt/go/mod GOCACHE=/opt/go/cache GOPATH=/opt/go/path \\
		    GOFLAGS=-mod=mod GOPROXY=off GOSUMDB=off GOTOOLCHAIN=local CGO_ENABLED=0
		# Runs may use another user: caches world-writable, any repository owner
		# trusted. Git compares mtime and size only: in a fresh container every
		# inode and ctime differs from the index's, and a full stat check would
		# make the first reset rewrite the whole tree.
		RUN mkdir -p /opt/go/mod /opt/go/cache /opt/go/path /testbed && chmod -R a+rwX /opt/go \\
		 && git config --system safe.directory '*' \\
		 && git config --system user.email bestpatch@localhost && git config --system user.name bestpatch \\
		 && git config --system core.checkStat minimal && git config --system core.trustCtime false
		# The standard library compiled once here, not in every go-task image
		# (a cold cache makes a run 20x slower); entries dated as in go-task.
		RUN go build std && find /opt/go/cache -type f -exec touch -d @4102444800 {} + && chmod -R a+rwX /opt/go/cache
		WORKDIR /testbed
		# Runs only read the toolchain, and may only read the module and build
		# caches: bestpatch mounts a read-only copy of each (made once per
		# engine and image) instead of reading them through the storage driver
		# in every new container (docs/DOCKER.md, "Read-only paths"). A run
		# still compiles what its candidate changed; go drops the cache writes.
		LABEL dev.bestpatch.image=go-base dev.bestpatch.readonly-paths="/usr/local/go /opt/go/cache /opt/go/mod"
	EOF
}

# go_base: build bestpatch/go-base unless its hash tag exists; print that tag.
go_base() {
	local goroot from tag ctx
	goroot=${GOROOT_HOST:-$(go env GOROOT)}
	[ -x "$goroot/bin/go" ] || die "no Go toolchain at $goroot: set GOROOT_HOST"
	from=$(rootfs_image "$(rootfs "${go_packages[@]}")")
	tag=bestpatch/go-base:$( (go_base_dockerfile "$from" && "$goroot/bin/go" version) | hash)
	if have_image "$tag"; then
		log "$tag is up to date"
	else
		# The host's toolchain rather than Debian's golang package: bookworm ships
		# Go 1.19, too old for modules that declare a newer go line, and without a
		# network the toolchain cannot be upgraded at run time (GOTOOLCHAIN=local).
		ctx=$(mktemp -d)
		cp -a "$goroot" "$ctx/go"
		rm -rf "$ctx/go/test" "$ctx/go/.git"
		go_base_dockerfile "$from" >"$ctx/Dockerfile"
		build_context "$ctx" "$tag"
		rm -rf "$ctx"
	fi
	docker tag "$tag" bestpatch/go-base:latest
	printf '%s\n' "$tag"
}

# go_task_steps: the layers go-task adds on top of the copied repository.
go_task_steps() {
	cat <<-EOF
		RUN chmod -R a+rwX /opt/go/mod \
		 && if [ ! -d .git ]; then git init -q && git add -A \
		    && GIT_AUTHOR_DATE=@$SOURCE_DATE_EPOCH GIT_COMMITTER_DATE=@$SOURCE_DATE_EPOCH git commit -qm base; fi \
		 && { test -z "\$(git status --porcelain)" || { echo "/testbed has uncommitted changes" >&2; exit 1; }; }
		# Warm the build cache (a package that does not build is the task's
		# business), then date its entries in the future: go touches an entry it
		# uses once its mtime is over an hour old, and in a fresh container every
		# such touch copies the whole file up out of the image's layer. Only the
		# new entries: go-base's are dated already.
		RUN go test -count=1 -run '^\$' ./... >/dev/null 2>&1; go vet ./... >/dev/null 2>&1; \
		    find /opt/go/cache -type f ! -newermt @4102444799 -exec touch -d @4102444800 {} + -exec chmod a+rw {} +
	EOF
}

# go_task REPO_DIR TAG: REPO_DIR at /testbed on go-base, its module
# dependencies in GOMODCACHE (downloaded now, on the host), GOCACHE warmed by
# compiling every package and test once so that a run only rebuilds what a
# patch changes. Skipped when TAG already carries the same content hash.
go_task() {
	local repo=$1 tag=$2 base content ctx
	[ -f "$repo/go.mod" ] || die "$repo has no go.mod: go-task needs the root of a Go module"
	base=$(go_base)
	content=$( (
		echo "$base"
		go_task_steps
		cd "$repo" && find . -path ./.git -prune -o -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
		git -C "$repo" rev-parse HEAD 2>/dev/null || true
	) | hash)
	if [ "$(docker image inspect -f '{{index .Config.Labels "dev.bestpatch.content"}}' "$tag" 2>/dev/null)" = "$content" ]; then
		log "$tag is up to date"
		return 0
	fi
	ctx=$(mktemp -d)
	cp -a "$repo" "$ctx/repo"
	chmod -R u+w "$ctx/repo"
	mkdir -p "$ctx/mod"
	local copy_mod=""
	if [ ! -d "$repo/vendor" ]; then
		log "go mod download in $repo"
		(cd "$ctx/repo" && GOMODCACHE="$ctx/mod" GOFLAGS=-mod=mod GOTOOLCHAIN=local go mod download) ||
			die "go mod download failed in $repo: check that the module proxy is reachable and go.mod is valid"
		rm -rf "$ctx/mod/cache/vcs"
		# COPY of an empty directory makes an empty layer, which the 20.10 legacy
		# builder on fuse-overlayfs sometimes loses ("layer does not exist").
		[ -z "$(ls -A "$ctx/mod")" ] || copy_mod="COPY mod /opt/go/mod"
	fi
	{
		printf 'FROM %s\n%s\nCOPY repo /testbed\n' "$base" "$copy_mod"
		go_task_steps
		echo "LABEL dev.bestpatch.image=go-task dev.bestpatch.content=$content"
	} >"$ctx/Dockerfile"
	build_context "$ctx" "$tag"
	chmod -R u+w "$ctx"
	rm -rf "$ctx"
}

# go_module MOD@VER [TAG]: a module version from the proxy, as a go-task.
go_module() {
	local modver=$1 tag=${2:-} dir
	[[ $modver == *@* ]] || die "go-module wants MODULE@VERSION, got $modver"
	[ -n "$tag" ] || tag="bestpatch/go-$(basename "${modver%@*}"):${modver#*@}"
	dir=$(cd / && GOFLAGS=-mod=mod go mod download -json "$modver" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
	[ -d "$dir" ] || die "go mod download $modver failed: check that the module and version exist on the proxy"
	go_task "$dir" "$tag"
}

# The Python images keep a second copy of their bytecode outside the
# repository, under PYTHONPYCACHEPREFIX, and name it and the library it
# compiles as read-only paths (docs/DOCKER.md, "Read-only paths"): every run
# then reads them from a volume, not through the storage driver (sympy's
# bin/test on one file: 2.0 s plain, 1.4 s so). The bytecode in /testbed's
# __pycache__ cannot be such a copy (the workdir stays writable, on the
# image's file system); with the prefix set python reads only the prefix.
# No run writes there: these images have no pip, and a .pyc that python or
# pytest cannot write (a module a candidate changed) is skipped silently, the
# module compiled in memory. Python checks a .pyc against its source's mtime
# and size, so the compile belongs after the last change to /testbed.
pycache_prefix=/opt/pycache

# python_bytecode_steps [COMMAND]: the Dockerfile lines that set the prefix,
# compile /testbed and the library into it (only what is missing or stale:
# an image FROM one that did this adds only the files it changed), run
# COMMAND after (pytest's collection, whose assertion-rewritten bytecode
# follows the prefix too) and label the read-only paths.
python_bytecode_steps() {
	cat <<-EOF
		ENV PYTHONPYCACHEPREFIX=$pycache_prefix
		RUN python3 -m compileall -q /testbed /usr/lib/python3 /usr/lib/python3.11 >/dev/null${1:+ && $1}
		LABEL dev.bestpatch.readonly-paths="/usr/lib/python3 /usr/lib/python3.11 $pycache_prefix"
	EOF
}

sympy_dockerfile() {
	# SWE-bench-like: the package's source (Debian ships sympy's own tests) is
	# the repository at /testbed, installed in develop mode (a .pth entry) as
	# SWE-bench's images do. Bytecode is compiled now and git-ignored, so the
	# `git clean -fd` before each run keeps it; so is pytest's assertion-
	# rewritten bytecode of sympy/core/tests (collecting them takes 9 s here and
	# saves each run that imports them as much: all of sympy would take 13 min).
	cat <<-EOF
		FROM $1
		ENV LANG=C.UTF-8
		RUN git config --system safe.directory '*' \\
		 && git config --system user.email bestpatch@localhost && git config --system user.name bestpatch \\
		 && git config --system core.checkStat minimal && git config --system core.trustCtime false \\
		 && mkdir -p /testbed && mv /usr/lib/python3/dist-packages/sympy /testbed/sympy \\
		 && echo /testbed >/usr/lib/python3/dist-packages/testbed.pth \\
		 && cd /testbed && printf '__pycache__/\\n*.pyc\\n.pytest_cache/\\n' >.gitignore \\
		 && git init -q && git add -A \\
		 && GIT_AUTHOR_DATE=@$SOURCE_DATE_EPOCH GIT_COMMITTER_DATE=@$SOURCE_DATE_EPOCH git commit -qm base \\
		 && python3 -m compileall -q /testbed >/dev/null \\
		 && python3 -m pytest --collect-only -q -p no:cacheprovider sympy/core/tests >/dev/null \\
		 && chmod -R a+rwX /testbed
		WORKDIR /testbed
		$(python_bytecode_steps "python3 -m pytest --collect-only -q -p no:cacheprovider sympy/core/tests >/dev/null")
		LABEL dev.bestpatch.image=sympy
	EOF
}

sympy() {
	local from tag ctx
	from=$(rootfs_image "$(rootfs bash coreutils git patch python3 python3-pytest python3-sympy)")
	tag=bestpatch/sympy:$(sympy_dockerfile "$from" | hash)
	if have_image "$tag"; then
		log "$tag is up to date"
	else
		ctx=$(mktemp -d)
		sympy_dockerfile "$from" >"$ctx/Dockerfile"
		build_context "$ctx" "$tag"
		rm -rf "$ctx"
	fi
	docker tag "$tag" bestpatch/sympy:latest
	printf '%s\n' "$tag"
}

sh_only_dockerfile() {
	# No bash at all: run.sh is POSIX sh, and this image proves it. The
	# repository holds links that leave it (to /opt/outside), for the tests
	# of patches that try to write through them.
	cat <<-EOF
		FROM $1
		RUN rm -f /bin/bash /bin/rbash /usr/bin/bash /usr/bin/rbash && ! command -v bash \\
		 && git config --system safe.directory '*' \\
		 && git config --system user.email bestpatch@localhost && git config --system user.name bestpatch \\
		 && mkdir -p /testbed /opt/outside && echo outside >/opt/outside/target.txt \\
		 && cd /testbed && seq -f 'l%g' 20 >lib.txt && echo original >lib_test.go \\
		 && ln -s /opt/outside link && ln -s /opt/outside/target.txt linkfile \\
		 && git init -q && git add -A \\
		 && GIT_AUTHOR_DATE=@$SOURCE_DATE_EPOCH GIT_COMMITTER_DATE=@$SOURCE_DATE_EPOCH git commit -qm base \\
		 && chmod -R a+rwX /testbed /opt/outside
		WORKDIR /testbed
		LABEL dev.bestpatch.image=sh-only
	EOF
}

# sh_only: bestpatch/sh-only on the Go chain's rootfs (cached by then).
sh_only() {
	local from tag ctx
	from=$(rootfs_image "$(rootfs "${go_packages[@]}")")
	tag=bestpatch/sh-only:$(sh_only_dockerfile "$from" | hash)
	if have_image "$tag"; then
		log "$tag is up to date"
	else
		ctx=$(mktemp -d)
		sh_only_dockerfile "$from" >"$ctx/Dockerfile"
		build_context "$ctx" "$tag"
		rm -rf "$ctx"
	fi
	docker tag "$tag" bestpatch/sh-only:latest
}

# The SWE-bench stand-in images: shaped like the harness's instance images
# (the repository at /testbed as a git repository whose HEAD is the base
# commit, /opt/miniconda3/bin/activate, a testbed environment), so that a
# task derived from a dataset row runs unmodified. Sources in testdata/images/swebench;
# the rows and predictions in testdata/swebench; docs/SWEBENCH.md.
swebench_src=$(cd "$(dirname "$0")" && pwd)/swebench

# Instance images under the names bestpatch derives from the rows' instance
# IDs (selector/swebench: ImageName with the default namespace, x86_64,
# latest). The IDs end in "bestpatch1", not in a pull request number as every
# SWE-bench ID does, so they cannot clash with a real instance.
swebench_sympy_image=swebench/sweb.eval.x86_64.sympy_1776_sympy-bestpatch1
swebench_django_image=swebench/sweb.eval.x86_64.django_1776_django-bestpatch1

# layer TAG CTX: docker build CTX (holding a Dockerfile) as TAG unless TAG
# carries the content hash of CTX already (label dev.bestpatch.content).
layer() {
	local tag=$1 ctx=$2 content
	content=$(cd "$ctx" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | hash)
	if [ "$(docker image inspect -f '{{index .Config.Labels "dev.bestpatch.content"}}' "$tag" 2>/dev/null)" = "$content" ]; then
		log "$tag is up to date"
		return 0
	fi
	echo "LABEL dev.bestpatch.content=$content" >>"$ctx/Dockerfile"
	build_context "$ctx" "$tag"
}

# The steps every stand-in image shares: the conda stand-in, whose testbed
# environment's python is Debian's, checked the way the eval script uses it.
swebench_conda_steps() {
	cat <<-'EOF'
		COPY activate /opt/miniconda3/bin/activate
		RUN mkdir -p /opt/miniconda3/envs/testbed/bin \
		 && ln -s /usr/bin/python3 /opt/miniconda3/envs/testbed/bin/python \
		 && ln -s /usr/bin/python3 /opt/miniconda3/envs/testbed/bin/python3 \
		 && bash -c 'source /opt/miniconda3/bin/activate && conda activate testbed && [ "$(command -v python)" = /opt/miniconda3/envs/testbed/bin/python ]'
	EOF
}

# commit MESSAGE: a shell line committing /testbed's changes at the fixed date.
commit() {
	printf 'GIT_AUTHOR_DATE=@%s GIT_COMMITTER_DATE=@%s git commit -qam %q' "$SOURCE_DATE_EPOCH" "$SOURCE_DATE_EPOCH" "$1"
}

# swebench_sympy: bestpatch/sympy (Debian's sympy 1.11 at /testbed) with
# bin/test and a bug in sympy/ntheory/digits.py that test_digits catches,
# committed on top: HEAD is the instance's base commit.
swebench_sympy() {
	local from ctx
	from=$(sympy)
	ctx=$(mktemp -d)
	cp "$swebench_src/conda-activate" "$ctx/activate"
	cp "$swebench_src/sympy/test" "$swebench_src/sympy/bug.patch" "$ctx/"
	{
		echo "FROM $from"
		swebench_conda_steps
		cat <<-EOF
			COPY test /testbed/bin/test
			COPY bug.patch /opt/bestpatch/bug.patch
			RUN cd /testbed && chmod a+rwx bin bin/test && git add bin/test \\
			 && $(commit "bin/test: sympy's test runner, with bin/test's options") \\
			 && patch -p1 --forward --batch </opt/bestpatch/bug.patch \\
			 && $(commit "digits: count the base as a digit (a bug for bestpatch's tests to find)") \\
			 && env -u PYTHONPYCACHEPREFIX python3 -m compileall -q sympy/ntheory >/dev/null && chmod -R a+rwX sympy/ntheory
			$(python_bytecode_steps)
			LABEL dev.bestpatch.image=swebench-sympy
		EOF
	} >"$ctx/Dockerfile"
	layer "$swebench_sympy_image:latest" "$ctx"
	rm -rf "$ctx"
	swebench_garbage "$swebench_sympy_image" bin/test
}

# swebench_django: Debian's Django 3.2 as the repository at /testbed (its
# package moved there, importable through a .pth file as an editable install
# makes it), a test suite of ours laid out as Django's (tests/runtests.py,
# tests/test_sqlite.py, tests/<app>/), and a bug in django/utils/text.py that
# tests/utils_tests/test_text.py catches, committed on top. The locales
# package serves the locale-gen of the harness's eval script for Django 3.x.
swebench_django() {
	local from ctx
	from=$(rootfs_image "$(rootfs bash coreutils git patch python3 python3-django locales)")
	ctx=$(mktemp -d)
	cp "$swebench_src/conda-activate" "$ctx/activate"
	cp "$swebench_src/django/bug.patch" "$ctx/"
	cp -a "$swebench_src/django" "$ctx/repo"
	rm "$ctx/repo/bug.patch"
	{
		echo "FROM $from"
		echo "ENV LANG=C.UTF-8"
		swebench_conda_steps
		cat <<-EOF
			COPY repo /testbed
			COPY bug.patch /opt/bestpatch/bug.patch
			RUN git config --system safe.directory '*' \\
			 && git config --system user.email bestpatch@localhost && git config --system user.name bestpatch \\
			 && git config --system core.checkStat minimal && git config --system core.trustCtime false \\
			 && mv /usr/lib/python3/dist-packages/django /testbed/django \\
			 && echo /testbed >/usr/lib/python3/dist-packages/testbed.pth \\
			 && cd /testbed && printf '__pycache__/\\n*.pyc\\n' >.gitignore \\
			 && git init -q && git add -A \\
			 && $(commit "Django 3.2 (Debian's python3-django) with a test suite laid out as Django's") \\
			 && patch -p1 --forward --batch </opt/bestpatch/bug.patch \\
			 && $(commit "slugify: strip only whitespace again (a bug for bestpatch's tests to find)") \\
			 && python3 -m compileall -q /testbed >/dev/null && chmod -R a+rwX /testbed
			WORKDIR /testbed
			$(python_bytecode_steps)
			LABEL dev.bestpatch.image=swebench-django
		EOF
	} >"$ctx/Dockerfile"
	layer "$swebench_django_image:latest" "$ctx"
	rm -rf "$ctx"
	swebench_garbage "$swebench_django_image" tests/runtests.py
}

# swebench_garbage IMAGE RUNNER: IMAGE:garbage, IMAGE:latest with the file
# RUNNER (the test command's program) replaced by testdata/images/swebench/garbage
# and committed, for the tests of output no parser can read. Its bytecode is
# IMAGE's: the runner is run as a script, which python never reads from a .pyc.
swebench_garbage() {
	local image=$1 runner=$2 ctx
	ctx=$(mktemp -d)
	cp "$swebench_src/garbage" "$ctx/garbage"
	cat >"$ctx/Dockerfile" <<-EOF
		FROM $image:latest
		COPY garbage /testbed/$runner
		RUN cd /testbed && chmod a+rwx $runner && $(commit "Replace the test runner by one that prints noise")
		LABEL dev.bestpatch.image=swebench-garbage
	EOF
	# The content of the base image is part of this one's.
	docker image inspect -f '{{.Id}}' "$image:latest" >"$ctx/from"
	layer "$image:garbage" "$ctx"
	rm -rf "$ctx"
}

# swebench: every stand-in image; the two chains share nothing.
swebench() {
	swebench_sympy &
	local pid=$!
	swebench_django || die "building the SWE-bench Django images failed (see above)"
	wait "$pid" || die "building the SWE-bench sympy images failed (see above)"
}

docker version >/dev/null 2>&1 || die "no Docker engine answers (DOCKER_HOST=${DOCKER_HOST:-unset}): start dockerd or point DOCKER_HOST at one"
mkdir -p "$cache/rootfs"
# One build at a time per cache: the tests of several packages may call this.
exec 9>"$cache/build.lock"
flock 9

case ${1:-all} in
all)
	# The two chains share nothing until the engine: build them side by side.
	go_module github.com/google/uuid@v1.6.0 bestpatch/go-uuid:latest &
	go_pid=$!
	swebench & # sympy, then the stand-ins
	py_pid=$!
	wait "$go_pid" || die "building bestpatch/go-uuid failed (see above)"
	sh_only # on the Go chain's rootfs, cached now
	wait "$py_pid" || die "building bestpatch/sympy or the SWE-bench images failed (see above)"
	;;
go-base) go_base >/dev/null ;;
go-module)
	[ $# -ge 2 ] || die "usage: $0 go-module MODULE@VERSION [TAG]"
	go_module "$2" "${3:-}"
	;;
go-task)
	[ $# -eq 3 ] || die "usage: $0 go-task REPO_DIR TAG"
	go_task "$2" "$3"
	;;
sympy) sympy >/dev/null ;;
sh-only) sh_only ;;
swebench) swebench ;;
*) die "unknown target $1; see the usage at the top of $0" ;;
esac
