#!/bin/sh
# make deb: the Debian package, built the Debian way. Assembles a source
# tree under BUILD_DIR/deb/ (the sources, packaging/debian as debian/) and
# runs dpkg-buildpackage -b -us -uc there; prints the .deb's path.
#   build-deb.sh BUILD_DIR
# The version is debian/changelog's. A build from anything but a clean
# checkout of the tag v<that version> is a snapshot, and says so:
#   <changelog>+git<commit time, UTC>.<git describe>[.dirty<build time>]
# so that every build of a later commit, and every rebuild of a tree with
# changes, installs over the one before (apt and dpkg -i see a newer
# version, never "already installed").
set -eu
B=$1
top=$(cd "$(dirname "$0")/../.." && pwd)
clv=$(dpkg-parsechangelog -l "$top/packaging/debian/changelog" -S Version)
version=$clv
if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
	dirty=$(git -C "$top" status --porcelain --untracked-files=normal -- . ':!build' 2>/dev/null | head -n 1)
	if [ -n "$dirty" ] || [ "$(git -C "$top" describe --tags --exact-match 2>/dev/null)" != "v$clv" ]; then
		when=$(TZ=UTC git -C "$top" log -1 --format=%cd --date=format-local:%Y%m%d%H%M%S)
		desc=$(git -C "$top" describe --tags --always --abbrev=7 | tr -- '-_' '..')
		version=$clv+git$when.$desc
		[ -z "$dirty" ] || version=$version.dirty$(date -u +%Y%m%d%H%M%S)
	fi
fi
arch=$(dpkg --print-architecture)
out=$B/deb
src=$out/sabot-$version
rm -rf "$out"
mkdir -p "$src"
# The sources as they are in the work tree (changes not yet committed
# included: that is what the snapshot's .dirty says), without build output.
(cd "$top" && tar -cf - --exclude=./build --exclude=./.git .) | tar -xf - -C "$src"
cp -r "$top/packaging/debian" "$src/debian"
if [ "$version" != "$clv" ]; then
	# A changelog entry of its own for the snapshot.
	{
		printf 'sabot (%s) UNRELEASED; urgency=medium\n\n  * Snapshot of %s.\n\n' "$version" \
			"$(git -C "$top" describe --tags --always --dirty 2>/dev/null || echo "the work tree")"
		printf ' -- %s  %s\n\n' "$(dpkg-parsechangelog -l "$top/packaging/debian/changelog" -S Maintainer)" "$(date -uR)"
		cat "$top/packaging/debian/changelog"
	} > "$src/debian/changelog"
fi
log=$out/dpkg-buildpackage.log
# At most two jobs (a shared machine); the package's own tests are make
# check's, not the package build's.
if ! (cd "$src" && DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:-parallel=2 nocheck}" dpkg-buildpackage -b -us -uc) >"$log" 2>&1; then
	tail -n 30 "$log" >&2
	echo "dpkg-buildpackage failed: $log" >&2
	exit 1
fi
deb=$out/sabot_${version}_$arch.deb
[ -f "$deb" ] || { echo "no $deb after dpkg-buildpackage" >&2; exit 1; }
echo "$deb"
