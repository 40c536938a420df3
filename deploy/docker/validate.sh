#!/usr/bin/env bash
# Validate docker-compose.yml without a Docker engine.
#
#   deploy/docker/validate.sh [path/to/docker-compose.yml]
#
# 1. `docker compose config -q` (Compose v2 plugin), else `docker-compose config -q`
#    (v1, Debian's docker-compose package), when either is installed: Compose's own
#    parser, interpolation and schema.
# 2. Always deploy/docker/validate_compose.py: what `config` does not look at (build
#    contexts and Dockerfiles exist, build args are declared ARGs, every depends_on
#    target exists and has the healthcheck its condition needs, every long-running
#    service has a healthcheck, no host port is published twice, no duplicate keys).
#    When no Compose CLI is installed this is the whole check.
#
# Exits non-zero when either check fails.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
file="${1:-$repo/docker-compose.yml}"
[[ -f "$file" ]] || { echo "validate.sh: $file: no such file" >&2; exit 2; }

status=0

# Compose's own parser is worth having: install Debian's docker-compose (v1, no
# engine needed for `config`) when no Compose CLI is present and apt-get can.
if ! docker compose version >/dev/null 2>&1 && ! command -v docker-compose >/dev/null 2>&1 \
  && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "== installing docker-compose (Debian) to validate with Compose's own parser"
  { DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -qq \
      && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
        --no-install-recommends docker-compose; } >/dev/null 2>&1 \
    || echo "   (could not install it; the schema check below still runs)"
fi

if docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then
  compose=(docker-compose)
else
  compose=()
fi

if ((${#compose[@]})); then
  echo "== ${compose[*]} -f $file config -q"
  if "${compose[@]}" -f "$file" config -q; then
    echo "ok"
  else
    echo "FAILED: ${compose[*]} config" >&2
    status=1
  fi
else
  echo "== no Compose CLI (docker compose / docker-compose): python checks only"
fi

# An interpreter with PyYAML (the workspace venv has it), preferring one that also has
# jsonschema, so the file is checked against a Compose JSON schema where one is found.
python=""
for modules in 'yaml, jsonschema' 'yaml'; do
  for candidate in "$repo/.venv/bin/python" python3 python; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c "import $modules" 2>/dev/null
    then
      python="$candidate"
      break 2
    fi
  done
done
if [[ -z "$python" ]]; then
  echo "validate.sh: no python with PyYAML found (run 'uv sync' or install python3-yaml)" >&2
  exit 2
fi

echo "== $python deploy/docker/validate_compose.py $file"
if ! "$python" "$here/validate_compose.py" "$file"; then
  status=1
fi

exit "$status"
