#!/usr/bin/env bash
# Builds the image the integration tests run, composewatch-test/busybox:1, unless it
# exists: Debian's static busybox with a symlink for every applet, imported with
# `docker import` (no registry is needed). Idempotent and safe to run concurrently.
set -euo pipefail

IMAGE=${COMPOSEWATCH_TEST_IMAGE:-composewatch-test/busybox:1}
BUSYBOX=/bin/busybox
LOCK=/run/lock/composewatch-test-image.lock

have_image() { docker image inspect "$IMAGE" >/dev/null 2>&1; }

have_image && exit 0

# Concurrent callers wait here; the loser of the race finds the image made.
mkdir -p "$(dirname "$LOCK")" 2>/dev/null || true
if exec 9>>"$LOCK" 2>/dev/null; then
  flock -w 120 9 || { echo "test-image.sh: timed out waiting for $LOCK" >&2; exit 1; }
fi
have_image && exit 0

if ! "$BUSYBOX" --list >/dev/null 2>&1; then
  echo "test-image.sh: $BUSYBOX is missing (apt-get install busybox-static)" >&2
  exit 1
fi
if ldd "$BUSYBOX" >/dev/null 2>&1; then
  echo "test-image.sh: $BUSYBOX is dynamically linked; install busybox-static" >&2
  exit 1
fi

root=$(mktemp -d /tmp/composewatch-test-image.XXXXXX)
trap 'rm -rf "$root"' EXIT

mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,root,var,proc,sys,dev}
install -d -m 1777 "$root/tmp"
cp "$BUSYBOX" "$root/bin/busybox"
# --list-full gives each applet's usual directory (bin/sh, usr/bin/head, sbin/...).
while read -r applet; do
  [ "$applet" = bin/busybox ] && continue
  ln -sf /bin/busybox "$root/$applet"
done < <("$BUSYBOX" --list-full)
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"

tar -C "$root" -c . |
  docker import \
    --change 'ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["sh"]' \
    --message 'composewatch integration test image: busybox-static' \
    - "$IMAGE" >/dev/null
