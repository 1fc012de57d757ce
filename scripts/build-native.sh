#!/usr/bin/env bash
# Build overlab's native helper(s) as static binaries into dist/native/.
#   dist/native/tun-open   attaches a TUN device for the agent (Node has no ioctl)
#   dist/native/udp-proxy  the udp backend's data path (TUN <-> UDP forwarding, driven by the agent)
#   dist/native/netns-share hands the underlay switch's network namespace to the lab's nodes (a unix socket, SCM_RIGHTS)
# Installs gcc + libc6-dev with apt-get only when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."

need_install=0
command -v gcc >/dev/null 2>&1 || need_install=1
[ -e /usr/include/linux/if_tun.h ] || need_install=1
# static libc: libc6-dev ships libc.a
if ! compgen -G '/usr/lib/*/libc.a' >/dev/null && [ ! -e /usr/lib/libc.a ]; then need_install=1; fi
if [ "$need_install" = 1 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "build-native: gcc/libc6-dev missing and not root; install them: apt-get install -y gcc libc6-dev linux-libc-dev" >&2
    exit 3
  fi
  echo "build-native: installing gcc libc6-dev linux-libc-dev" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq gcc libc6-dev linux-libc-dev >/dev/null
fi

mkdir -p dist/native
for name in tun-open udp-proxy netns-share; do
  out=dist/native/$name
  src=native/$name.c
  if [ -x "$out" ] && [ "$out" -nt "$src" ] && [ "$out" -nt "$0" ] && [ "${FORCE:-0}" != 1 ]; then
    echo "build-native: $out is up to date"
    continue
  fi
  gcc -static -O2 -Wall -Wextra -Werror -o "$out.tmp" "$src"
  strip "$out.tmp" 2>/dev/null || true
  mv "$out.tmp" "$out"
  echo "build-native: built $out"
done
