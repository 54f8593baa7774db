#!/usr/bin/env bash
# Makes a Docker image from the host's static busybox (Debian: busybox-static),
# with no registry: a rootfs of /bin/busybox and one symlink per applet, given
# to `docker import`. Does nothing when the image exists already, so running it
# again is harmless. Used by the `# prepare:` line of examples/docker.yaml.
#
#   bash scripts/busybox-image.sh [REF]      (default wirescope-example/busybox:latest)
set -euo pipefail
ref=${1:-wirescope-example/busybox:latest}

docker image inspect "$ref" >/dev/null 2>&1 && exit 0

bb=
for p in /bin/busybox /usr/bin/busybox; do [ -x "$p" ] && { bb=$p; break; }; done
[ -n "$bb" ] || { echo "busybox-image: no busybox on this host; install busybox-static" >&2; exit 1; }

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,run,root,tmp}
chmod 1777 "$dir/tmp"
cp "$bb" "$dir/bin/busybox"
chmod 755 "$dir/bin/busybox"
# Each applet where busybox says it belongs (bin/ls, usr/bin/env, ...), linked relatively.
while IFS= read -r a; do
  case "$a" in
    bin/busybox | */*/*/* | *..*) continue ;;
    bin/* | sbin/*) ln -s ../bin/busybox "$dir/$a" ;;
    usr/bin/* | usr/sbin/*) ln -s ../../bin/busybox "$dir/$a" ;;
  esac
done < <("$bb" --list-full)
echo 'root:x:0:0:root:/root:/bin/sh' >"$dir/etc/passwd"
echo 'root:x:0:' >"$dir/etc/group"
# A dynamically linked busybox (Debian's "busybox" package) cannot start without its libc.
chroot "$dir" /bin/sh -c true 2>/dev/null ||
  { echo "busybox-image: $bb does not run on its own (dynamically linked?); install busybox-static" >&2; exit 1; }

tar -C "$dir" -c . | docker import --change 'CMD ["/bin/sh"]' - "$ref" >/dev/null
echo "busybox-image: imported $ref"
