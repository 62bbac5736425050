#!/usr/bin/env bash
# The main job on a built-in example: make a sample Trac environment with trac-admin, generate
# its .wsgi script and Apache configuration, then smoke-test them through a real Apache on
# 127.0.0.1 (Hello World first, then Trac itself). Installs what it needs first.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
VENV="${TRAC_DEPLOY_VENV:-/opt/trac-deploy/venv}"
WORK="${1:-$(mktemp -d /tmp/trac-deploy-example-XXXXXX)}"
chmod 755 "$WORK"
ENV_DIR="$WORK/sample-env"
OUT="$WORK/deploy"

if [[ ! -f "$ENV_DIR/VERSION" ]]; then
  echo "== trac-admin $ENV_DIR initenv"
  "$VENV/bin/trac-admin" "$ENV_DIR" initenv "Sample Project" sqlite:db/trac.db >/dev/null
  "$VENV/bin/trac-admin" "$ENV_DIR" wiki import WikiStart <(printf '= Sample Project =\nServed by Apache + mod_wsgi, configured by trac-deploy.\n') >/dev/null
fi
# The Apache user must read the environment and write its database, log and egg cache.
chown -R www-data:www-data "$ENV_DIR"

echo "== trac-deploy inspect"
node bin/trac-deploy.js inspect "$ENV_DIR"
echo
echo "== trac-deploy generate"
node bin/trac-deploy.js generate "$ENV_DIR" --out "$OUT" --python-home "$VENV" --force
echo
echo "== trac-deploy smoke --hello"
node bin/trac-deploy.js smoke "$OUT" --hello
echo
echo "== trac-deploy smoke"
node bin/trac-deploy.js smoke "$OUT"
echo
echo "Files are in $OUT; the sample environment is $ENV_DIR."
