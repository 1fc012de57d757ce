#!/usr/bin/env bash
# Tools the tests need, from Debian's own packages, installed only when missing: tshark (reads
# the pcapng `overlab trace --pcap` writes), chromium (loads the `overlab report` page headless;
# driven by playwright-core, nothing downloaded elsewhere), and for the multi-engine rig
# (scripts/engine-rig.sh): podman with catatonit (its --init), openssh-server (an engine reached
# over ssh), openssl (TLS certificates made in the test); zsh and fish (they run the completion
# scripts `overlab completion` prints, as users' shells do). Idempotent; the test set-up calls it.
set -euo pipefail

log() { printf '\033[1m[test-tools]\033[0m %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
command -v tshark >/dev/null 2>&1 || missing+=(tshark)
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v podman >/dev/null 2>&1 || missing+=(podman)
command -v catatonit >/dev/null 2>&1 || missing+=(catatonit)
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)
command -v ssh >/dev/null 2>&1 || missing+=(openssh-client)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v zsh >/dev/null 2>&1 || missing+=(zsh)
command -v fish >/dev/null 2>&1 || missing+=(fish)
[ ${#missing[@]} -eq 0 ] && exit 0

log "apt-get update"
as_root apt-get update -qq
log "installing ${missing[*]}"
# noninteractive: wireshark-common asks whether non-root users may capture; the default (no) is right here.
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
log "ready: $(tshark --version | head -1); $(/usr/bin/chromium --version 2>/dev/null || echo 'chromium ?'); $(podman --version 2>/dev/null || echo 'podman ?')"
