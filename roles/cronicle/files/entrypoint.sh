#!/usr/bin/env bash
# Cronicle's PID 1 (vixtract.stack). As root, only long enough to: merge the site's configuration over the
# release's defaults, give Cronicle's data and logs to the `cronicle` user (private: jobs run as the notebooks'
# owners and must not read them), write the settings jobs get, and prepare the one-time storage setup (admin
# password, automation account and API key from the secret files, never admin/admin). Then Cronicle runs as
# `cronicle`, never as root: the only way up is sudo for /usr/local/sbin/vixtract-run-notebook.
set -euo pipefail
cd /opt/cronicle
as_cronicle() { setpriv --reuid=cronicle --regid=cronicle --init-groups --inh-caps=-all -- "$@"; }

# Configuration: root-owned, readable by the cronicle group only (it holds the secret key)
node -e '
  const fs = require("fs");
  // http_response_headers is replaced, not merged: the release sends Access-Control-Allow-Origin: *
  const merge = (a, b) => { for (const k of Object.keys(b)) {
    a[k] = (k !== "http_response_headers" && b[k] && typeof b[k] === "object" && !Array.isArray(b[k])
            && a[k] && typeof a[k] === "object") ? merge(a[k], b[k]) : b[k]; } return a; };
  const conf = merge(JSON.parse(fs.readFileSync("sample_conf/config.json")),
                     JSON.parse(fs.readFileSync("/etc/cronicle/config.json")));
  fs.writeFileSync("conf/config.json", JSON.stringify(conf, null, 2), { mode: 0o640 });
'
chown root:cronicle conf/config.json && chmod 0640 conf/config.json

# Data, logs, the queue and its scratch space belong to cronicle alone (also after an upgrade from a release that
# ran as root)
for dir in data logs queue tmp; do
  mkdir -p "$dir"
  if [ -n "$(find "$dir" ! -user cronicle -print -quit)" ]; then chown -R cronicle:cronicle "$dir"; fi
  chmod 0700 "$dir"
done

# What a job may know of the stack's database (read by vixtract-run-notebook, which trusts no environment)
install -d -m 0755 /run/vixtract
printf 'PGHOST=%s\nPGPORT=%s\nPGDATABASE=%s\nTZ=%s\n' "${PGHOST:-}" "${PGPORT:-}" "${PGDATABASE:-}" "${TZ:-UTC}" \
  > /run/vixtract/job.env
chmod 0644 /run/vixtract/job.env

if ! as_cronicle node bin/storage-cli.js get global/users >/dev/null 2>&1; then
  echo "vixtract: first start, setting up Cronicle's storage for $(hostname)"
  node bin/vixtract-setup.js /run/secrets/cronicle
  chown cronicle:cronicle conf/setup.json
  trap 'rm -f conf/setup.json' EXIT
  # (its closing message claims admin/admin, which vixtract-setup.js replaced: leave that line out)
  as_cronicle node bin/storage-cli.js setup > /tmp/setup.log 2>&1 || { cat /tmp/setup.log; exit 1; }
  grep -v "password 'admin'" /tmp/setup.log || true
  rm -f conf/setup.json /tmp/setup.log
  trap - EXIT
fi

export HOME=/opt/cronicle/tmp TMPDIR=/opt/cronicle/tmp
exec setpriv --reuid=cronicle --regid=cronicle --init-groups --inh-caps=-all -- node lib/main.js
