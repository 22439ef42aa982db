#!/usr/bin/env bash
# One-time machine set-up for chainprobe on Debian (bookworm) as root:
# system packages (data planes, capture/replay tools, independent oracles), npm dependencies, the build.
# Idempotent: re-running only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  iproute2 nftables tcpdump tcpreplay tshark netsniff-ng socat procps psmisc kmod
  strongswan-charon strongswan-swanctl libcharon-extra-plugins libstrongswan-extra-plugins libstrongswan-standard-plugins
  python3-scapy python3-cryptography
  openssh-server openssh-client docker.io debootstrap busybox-static
  chromium fonts-dejavu-core libxml2-utils
  nfdump nfdump-sflow pmacct
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "[setup] installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # tshark asks whether non-root users may capture; answer once, non-interactively.
  echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian starts services on install; the chain starts its own charon/sshd/dockerd in namespaces.
for svc in strongswan-starter strongswan ssh docker containerd; do
  systemctl disable --now "$svc" >/dev/null 2>&1 || true
done
pkill -x charon 2>/dev/null || true

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "[setup] installing npm dependencies"
  npm ci --no-audit --no-fund --loglevel=error || npm install --no-audit --no-fund --loglevel=error
fi
# The published form (dist/: JavaScript + declarations). bin/chainprobe.js runs src/ through tsx in a
# checkout, so this is not needed to use the repository; it is what `npm pack` ships and the package
# test installs, and what bin falls back to when a checkout has no devDependencies.
echo "[setup] building dist/"
npm run --silent build
# Native addons (N-API, built offline against Node's own headers with npm's bundled node-gyp):
#   native/esp    AES-GCM ESP with one OpenSSL context per SA (3x node:crypto)
#   native/rawtx  raw IPv4 sendmmsg batches for the in-process injector
# Both are optional at run time: without them chainprobe falls back to node:crypto / raw-socket.
# Rebuilt every time (about a second each), so an edited source or a new Node is never stale.
for addon in native/esp native/rawtx; do
  npx -c "node-gyp rebuild -C $addon" >/dev/null 2>&1 || echo "[setup] warning: $addon did not build; the slower fallback will be used"
done
echo "[setup] done"
