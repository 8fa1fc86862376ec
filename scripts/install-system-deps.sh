#!/usr/bin/env bash
# Installs the Debian packages the integration tests need, and only those not
# installed yet: safe to run before every test run.
set -euo pipefail

PACKAGES=(
  python3-flask   # test/integration/flask.test.ts, under /usr/bin/python3
  python3-django  # test/integration/django.test.ts
  python3-fastapi    # test/python/test_asgi_frameworks.py: FastAPI and Starlette through the ASGI core
  python3-starlette  # the same test; FastAPI stands on it
  python3-uvicorn    # test/integration/asgi-uvicorn.test.ts: the reference ASGI server, compared response for response
  python3-multipart  # FastAPI's and Starlette's form and file parsing (test/integration/asgi-fastapi.test.ts)
  python3-websockets       # test/integration/websocket-clients.test.ts: a Python WebSocket client against portico
  python3-django-channels  # test/integration/websocket-channels.test.ts: a Channels consumer over portico's WebSockets
  nginx           # test/conformance/nginx-corpus.test.ts: the corpus through a real proxy
  wrk             # test/http/soak.test.ts: load on the side while connections are held
  perl            # test/cgi: a Perl CGI script
  git             # test/integration/cgi-git-push.test.ts: git-http-backend as a CGI script, and git's own client
  chromium        # test/integration/status-page.test.ts: the control listener's /status page, driven by playwright-core
  man-db          # test/integration/distribution-*.test.ts: man -l renders portico(1)
  lintian         # test/integration/distribution-deb.test.ts: Debian's policy checks on the built .deb (some 130 packages, Perl modules mostly; apt-get here takes no Recommends)
  python3-h2      # test/integration/http2-attacks.test.ts: frame-level HTTP/2 attack clients (test/fixtures/http2/h2_attack.py)
  nghttp2-client  # test/integration/http2.test.ts and bench/: nghttp and h2load
  haproxy         # test/deploy/cluster.test.ts: Debian's HAProxy in front of three hosts, PROXY v2 and /readyz checks
  iproute2        # test/deploy/cluster.test.ts: ip netns, veth pairs and a bridge for the three hosts (usually there already)
)

installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q '^install ok installed$'
}

missing=()
for package in "${PACKAGES[@]}"; do
  if installed "$package"; then
    echo "install-system-deps: $package already installed"
  else
    missing+=("$package")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-system-deps: nothing to install"
  exit 0
fi

as_root=()
if [ "$(id -u)" -ne 0 ]; then
  as_root=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive

echo "install-system-deps: apt-get update"
"${as_root[@]}" apt-get update
echo "install-system-deps: apt-get install ${missing[*]}"
"${as_root[@]}" apt-get install -y --no-install-recommends "${missing[@]}"

for package in "${missing[@]}"; do
  if ! installed "$package"; then
    echo "install-system-deps: $package is still not installed" >&2
    exit 1
  fi
done
echo "install-system-deps: done"
