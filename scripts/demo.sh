#!/usr/bin/env bash
# farmvault end to end, on a throwaway vault this script creates under
# ./target/demo (removed and made again on every run). No arguments, no setup:
#   bash scripts/demo.sh
# Builds the release binary, then walks through what an admin and a farm job do:
# init with a key file, store a script key and a session token (secrets on stdin,
# never argv), list with expiries, read a field through a pipe, Toolkit JSON out
# and back in, exec a child that gets a secret in its environment only, renew,
# expire + check + purge, and moving tk-core's plaintext session cache in.
# The credentials are made up; nothing leaves this machine.
set -euo pipefail
cd "$(dirname "$0")/.."
umask 077

if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold='' plain=''; fi
step() { printf '\n%s==> %s%s\n' "$bold" "$*" "$plain"; }
show() { printf '$ %s\n' "$*"; }

# FARMVAULT_DEMO_BIN: a farmvault binary already built (scripts/test-all.sh
# passes the release build it tests), instead of building one here.
if [ -n "${FARMVAULT_DEMO_BIN:-}" ]; then
  fv=$FARMVAULT_DEMO_BIN
else
  step "Build the farmvault binary (release)"
  show cargo build --release -p farmvault-cli --bin farmvault
  cargo build --release -p farmvault-cli --bin farmvault
  target_dir=$(cargo metadata --format-version 1 --no-deps 2>/dev/null \
    | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
  fv="${target_dir:-target}/release/farmvault"
fi

demo=target/demo
rm -rf "$demo"
mkdir -p "$demo"
chmod 700 "$demo"
# Every command below uses this vault and key file; nothing else is touched.
export FARMVAULT_PATH="$demo/vault"
export FARMVAULT_KEY_FILE="$demo/farm.key"
unset FARMVAULT_PASSPHRASE FARMVAULT_PASSPHRASE_FILE FARMVAULT_INSECURE_KDF_FOR_TESTS 2>/dev/null || true

step "Create a vault opened by a new key file (32 random bytes, mode 0600)"
show farmvault init --key-file "$FARMVAULT_KEY_FILE" --generate-key-file
"$fv" init --key-file "$FARMVAULT_KEY_FILE" --generate-key-file
ls -ld "$FARMVAULT_PATH" "$FARMVAULT_KEY_FILE"

site=https://mysite.shotgrid.autodesk.com
api_key=0123456789abcdef0123456789abcdef   # made up
token=demo-session-token-4f2a9c            # made up

step "Store a script key: the key comes on stdin, never on the command line"
show "printf %s \"\$API_KEY\" | farmvault put shotgun/render_farm --kind script_key --host $site --script-name render_farm"
printf %s "$api_key" | "$fv" put shotgun/render_farm --kind script_key --host "$site" --script-name render_farm

step "Store a user's session token with an 8-hour TTL"
show "printf %s \"\$TOKEN\" | farmvault put shotgun/jdoe --kind session_token --host $site --login jdoe --ttl 8h"
printf %s "$token" | "$fv" put shotgun/jdoe --kind session_token --host "$site" --login jdoe --ttl 8h

step "List: name, kind, host, created, expiry (never secrets)"
show farmvault list
"$fv" list
show farmvault list --json
"$fv" list --json

step "Read fields: the host prints anywhere; the key only through a pipe"
show farmvault get shotgun/render_farm --field host
"$fv" get shotgun/render_farm --field host
show "farmvault get shotgun/render_farm --field api_key -n | wc -c"
"$fv" get shotgun/render_farm --field api_key -n | wc -c
if [ -t 1 ]; then
  show "farmvault get shotgun/render_farm   # on a terminal: refused without --reveal"
  "$fv" get shotgun/render_farm || echo "(exit status $?)"
fi

step "Toolkit: export what tk-core's deserialize_user accepts, import it back"
show "farmvault export-sgtk shotgun/jdoe | farmvault import-sgtk shotgun/jdoe-copy --ttl 4h"
"$fv" export-sgtk shotgun/jdoe | "$fv" import-sgtk shotgun/jdoe-copy --ttl 4h
show "farmvault export-sgtk shotgun/jdoe-copy | sed 's/\"session_token\": \"[^\"]*\"/\"session_token\": \"<hidden>\"/'"
"$fv" export-sgtk shotgun/jdoe-copy | sed 's/"session_token": "[^"]*"/"session_token": "<hidden>"/'

step "exec: the child gets the key in its environment only, and checks it without printing it"
show "farmvault exec --env SG_API_KEY=shotgun/render_farm:api_key --env SG_HOST=shotgun/render_farm:host -- sh -c '...'"
EXPECTED_KEY="$api_key" "$fv" exec \
  --env SG_API_KEY=shotgun/render_farm:api_key \
  --env SG_HOST=shotgun/render_farm:host \
  -- sh -c 'test "$SG_API_KEY" = "$EXPECTED_KEY" && echo "child: SG_API_KEY holds the key (${#SG_API_KEY} chars) for $SG_HOST"'
echo "exec exit status: $? (the child's)"

step "Renew the session token for another 24 hours"
show farmvault renew shotgun/jdoe --ttl 24h
"$fv" renew shotgun/jdoe --ttl 24h

step "Expiry: a 1-second entry, a health check, a purge"
show "printf x | farmvault put scratch/short-lived --ttl 1s; sleep 2"
printf x | "$fv" put scratch/short-lived --ttl 1s
sleep 2
show farmvault check
status=0
"$fv" check || status=$?
echo "check exit status: $status (1 = something expired or expiring)"
show farmvault purge
"$fv" purge
show farmvault check --expiring-within 1h
"$fv" check --expiring-within 1h

step "Move tk-core's plaintext session cache into the vault (a sample SHOTGUN_HOME)"
home="$demo/shotgun_home"
mkdir -p "$home/mysite"
printf 'current_host: %s\n' "$site" > "$home/authentication.yml"
cat > "$home/mysite/authentication.yml" <<'YAML'
current_user: asmith
recent_users:
- asmith
users:
- login: asmith
  session_token: demo-cached-token-77
YAML
show farmvault import-session-cache --shotgun-home "$home" --remove
"$fv" import-session-cache --shotgun-home "$home" --remove
show cat "$home/mysite/authentication.yml"
cat "$home/mysite/authentication.yml"

step "Survive storage damage: a copy elsewhere, and a repair from the vault's own backup"
show farmvault backup "$demo/vault-copy.fvbk"
"$fv" backup "$demo/vault-copy.fvbk"
# The store lives in the generation directory CURRENT names (gen-<n>/db).
show "rm \"\$FARMVAULT_PATH/\$(cat \"\$FARMVAULT_PATH/CURRENT\")/db\"   # stand-in for a store sled will not open after a crash"
rm "$FARMVAULT_PATH/$(cat "$FARMVAULT_PATH/CURRENT")/db"
show farmvault repair
"$fv" repair
show farmvault backup --verify
"$fv" backup --verify

step "Final state"
show farmvault list
"$fv" list
if grep -rqa -e "$api_key" -e "$token" -e demo-cached-token-77 "$FARMVAULT_PATH" "$demo/vault-copy.fvbk"; then
  echo "a secret was found in clear under $FARMVAULT_PATH" >&2
  exit 1
fi
echo "no secret appears in clear under $FARMVAULT_PATH"
printf '\nDemo finished: the vault and key file are in %s (throwaway).\n' "$demo"
