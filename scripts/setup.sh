#!/usr/bin/env bash
# Installs everything trac-deploy's example and test suite need, idempotently:
# Debian packages (Apache 2.4, mod_wsgi for Debian's python3, PostgreSQL, MariaDB, Subversion and its
# Python bindings, mod_xsendfile), the npm packages,
# and a virtualenv with Trac 1.6 made from /usr/bin/python3 (the interpreter mod_wsgi embeds).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${TRAC_DEPLOY_VENV:-/opt/trac-deploy/venv}"
# mod_wsgi-express for bench/production.bench.mjs only: PyPI mod-wsgi built against Debian's
# apache2-dev (about 75 s on 2 cores), in a virtualenv of its own.
MOD_WSGI_VENV="${MOD_WSGI_VENV:-/opt/trac-deploy/mod-wsgi-venv}"
MOD_WSGI_VERSION="${MOD_WSGI_VERSION:-5.0.2}"
TRAC_VERSION="${TRAC_VERSION:-1.6}"
DEB_PACKAGES=(apache2 apache2-utils libapache2-mod-wsgi-py3 libapache2-mod-auth-gssapi python3 python3-venv
  postgresql postgresql-client mariadb-server mariadb-client wrk tmux
  openssh-server python3-apt python3-pkg-resources iproute2 openssl apache2-dev python3-dev
  subversion python3-subversion libapache2-mod-xsendfile
  acl)

log() { printf '[setup] %s\n' "$*"; }

missing=()
for p in "${DEB_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: Debian packages missing (${missing[*]}); run this script as root or install them." >&2
    exit 2
  fi
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The packages start the system services; the tests run their own throwaway servers.
  systemctl disable --now apache2 >/dev/null 2>&1 || service apache2 stop >/dev/null 2>&1 || true
else
  log "Debian packages present"
fi

if [[ -L node_modules ]]; then
  # A worktree sharing another checkout's node_modules: npm ci would empty the shared copy.
  log "node_modules is a link to $(readlink node_modules): left alone"
elif [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  log "installing npm packages"
  # better-sqlite3 would first try to download a prebuilt binary, which only the npm registry
  # can serve here: build it from source at once (gcc, make, python3 and Node's headers).
  npm_config_build_from_source=true npm ci --no-audit --no-fund --loglevel=error
else
  log "npm packages present"
fi

if [[ ! -x "$VENV/bin/trac-admin" ]] || ! "$VENV/bin/python" -c "import trac, sys; sys.exit(0 if trac.__version__.startswith('$TRAC_VERSION') else 1)" 2>/dev/null; then
  log "creating Trac $TRAC_VERSION virtualenv at $VENV (from /usr/bin/python3)"
  mkdir -p "$(dirname "$VENV")"
  chmod 755 "$(dirname "$VENV")"
  /usr/bin/python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "Trac==$TRAC_VERSION.*" "setuptools<82" psycopg2-binary PyMySQL
else
  log "Trac virtualenv present at $VENV"
fi

# pinned_venv DIR PIN [PACKAGE...]: a virtualenv made from /usr/bin/python3 holding PIN (name==version,
# as pip freeze prints it) and the other packages; (re)installed unless PIN is there already.
pinned_venv() {
  local dir=$1 pin=$2
  shift 2
  if [[ -x "$dir/bin/pip" ]] && "$dir/bin/pip" freeze 2>/dev/null | grep -qx "$pin"; then
    log "$pin present in $dir"
    return
  fi
  log "installing $pin $* into $dir"
  mkdir -p "$(dirname "$dir")"
  /usr/bin/python3 -m venv "$dir"
  "$dir/bin/pip" install -q --disable-pip-version-check "$pin" "$@"
}

# mod_wsgi-express for the production bench, built against apache2-dev.
pinned_venv "$MOD_WSGI_VENV" "mod-wsgi==$MOD_WSGI_VERSION"

# Ansible for `trac-deploy fleet` (and its tests), pinned, in its own virtualenv: ansible 10.x is
# ansible-core 2.17, whose controller runs on Python 3.10-3.12 (Debian 12: 3.11).
ANSIBLE_VENV="${TRAC_DEPLOY_ANSIBLE_VENV:-/opt/trac-deploy/ansible}"
pinned_venv "$ANSIBLE_VENV" "ansible-lint==24.12.2" "ansible==10.7.0" "ansible-core==2.17.14"

# Wheels for the fleet test bed's hosts, which have no route to PyPI: the same Trac as $VENV.
WHEELS="${TRAC_DEPLOY_WHEELS:-/opt/trac-deploy/wheels}"
if ! ls "$WHEELS"/[Tt]rac-"$TRAC_VERSION"*.whl >/dev/null 2>&1 || ! ls "$WHEELS"/psycopg2_binary-*.whl >/dev/null 2>&1; then
  log "downloading wheels for the fleet test bed into $WHEELS"
  mkdir -p "$WHEELS"
  "$VENV/bin/pip" download -q --disable-pip-version-check --only-binary=:all: -d "$WHEELS" \
    "Trac==$("$VENV/bin/python" -c 'import trac; print(trac.__version__)')" "setuptools<82" \
    "psycopg2-binary==$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("psycopg2-binary"))')"
else
  log "fleet wheels present in $WHEELS"
fi

TOOLS_VENV="${TRAC_DEPLOY_TOOLS:-/opt/trac-deploy/tools}"
if [[ ! -x "$TOOLS_VENV/bin/check-jsonschema" ]]; then
  # The CI tests validate the generated GitHub workflow and .gitlab-ci.yml against the schemas
  # check-jsonschema ships (vendor.github-workflows, vendor.gitlab-ci); its own virtualenv.
  log "installing check-jsonschema into $TOOLS_VENV"
  mkdir -p "$(dirname "$TOOLS_VENV")"
  /usr/bin/python3 -m venv "$TOOLS_VENV"
  "$TOOLS_VENV/bin/pip" install -q --disable-pip-version-check check-jsonschema
else
  log "check-jsonschema present in $TOOLS_VENV"
fi

log "building"
npm run -s build
log "done"
