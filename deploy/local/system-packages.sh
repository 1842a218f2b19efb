#!/usr/bin/env bash
# Install the Debian packages crimemap needs, only when something is missing.
set -euo pipefail

PACKAGES=(postgresql-15 postgresql-15-postgis-3 gdal-bin libgdal-dev libgeos-c1v5 libproj25
          redis-server chromium fonts-dejavu-core time
          nginx libnginx-mod-http-brotli-static gettext-base wrk)
missing=()
for pkg in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "Installing system packages: ${missing[*]}"
    if [ "$(id -u)" -ne 0 ]; then echo "Run as root (or install them yourself): ${missing[*]}" >&2; exit 1; fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# uv at the version the Dockerfile pins (UV_VERSION there too), installed when another or none.
UV_VERSION="${UV_VERSION:-0.13.9}"
if [ "$(uv --version 2>/dev/null | cut -d' ' -f2)" != "$UV_VERSION" ]; then
    python3 -m pip install -q "uv==$UV_VERSION"
fi
