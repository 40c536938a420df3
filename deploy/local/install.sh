#!/usr/bin/env bash
# Installs what `make run` and `make test` need on a fresh Debian machine, and
# nothing that is already there: Debian packages with apt-get, uv with pip, the
# Python workspace with uv. The Kafka jars come later, through Maven, on the
# first `kafka.sh start` (and are cached).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

# Debian packages: the PostgreSQL 15 server with PostGIS, a JDK and Maven for Kafka.
packages=(postgresql-15 postgresql-client-15 postgresql-15-postgis-3 openjdk-17-jre-headless maven)
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
# A JDK or Maven installed another way (SDKMAN, a tarball) is just as good.
wanted=("${missing[@]}")
missing=()
for pkg in "${wanted[@]}"; do
  if [ "$pkg" = openjdk-17-jre-headless ] && command -v java >/dev/null 2>&1; then continue; fi
  if [ "$pkg" = maven ] && command -v mvn >/dev/null 2>&1; then continue; fi
  missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "installing Debian packages: ${missing[*]}"
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then sudo=(sudo); fi
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 \
    install -y -qq --no-install-recommends "${missing[@]}"
fi

# uv, from PyPI, when the machine has none.
if ! command -v uv >/dev/null 2>&1 && ! python3 -m uv --version >/dev/null 2>&1; then
  echo "installing uv"
  python3 -m pip install --quiet --disable-pip-version-check uv \
    || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages uv
fi

uv_cmd() {
  if command -v uv >/dev/null 2>&1; then uv "$@"; else python3 -m uv "$@"; fi
}

# The workspace, exactly as locked.
cd "$repo"
uv_cmd sync --frozen --quiet
echo "dependencies ready"
