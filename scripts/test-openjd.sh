#!/usr/bin/env bash
# examples/openjd/render-with-grant.yaml run by the real Open Job Description
# CLI (openjd-cli from PyPI, in a scratch venv), with the debug farmvault CLI on
# PATH: a vault issues a grant with a 4-second use window; a job claims it at
# session start and renders two frames, each task reading the key through
# `farmvault exec`. Checked: the job succeeds, each task's output shows the key
# masked (***), the session log shows the token only as ********, and neither
# the key nor the token is in the log; a session started after the window
# fails, saying the grant expired.
# Usage (from anywhere): bash scripts/test-openjd.sh
# Needs: python3 with venv and pip, PyPI, cargo. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

# The openjd-cli release these checks were written against.
OPENJD_CLI=openjd-cli==0.8.0

stage() { printf '\n==> %s\n' "$*"; }
die() { printf 'test-openjd.sh: %s\n' "$*" >&2; exit 1; }

cargo build -q -p farmvault-cli --bin farmvault
target_dir=$(cd "${CARGO_TARGET_DIR:-target}" && pwd)
scratch=$(mktemp -d "${TMPDIR:-/tmp}/farmvault-openjd.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
chmod 700 "$scratch"

stage "a fresh venv with $OPENJD_CLI"
python3 -m venv "$scratch/venv"
"$scratch/venv/bin/pip" install -q --disable-pip-version-check "$OPENJD_CLI"
openjd=$scratch/venv/bin/openjd

export PATH="$target_dir/debug:$PATH"
export FARMVAULT_INSECURE_KDF_FOR_TESTS=1
key=KEY-openjd-$RANDOM-9f8e7d6c5b
work=$scratch/farm
mkdir -m 700 "$work"
printf 'openjd test passphrase\n' >"$work/pass"
chmod 600 "$work/pass"

issue() { # issue LABEL USE_FOR: prints the token
    FARMVAULT_PATH=$work/vault FARMVAULT_PASSPHRASE_FILE=$work/pass \
        farmvault --quiet grant shotgun/render_farm --claim-within 1h --use-for "$2" \
        --label "$1" --out "$work/$1.fvgrant"
}
FARMVAULT_PATH=$work/vault FARMVAULT_PASSPHRASE_FILE=$work/pass farmvault --quiet init
printf %s "$key" | FARMVAULT_PATH=$work/vault FARMVAULT_PASSPHRASE_FILE=$work/pass farmvault --quiet put \
    shotgun/render_farm --kind script_key --host https://mysite.shotgrid.autodesk.com --script-name render_farm
token=$(issue job1 4s)

# The job's side: no vault, no passphrase; first opens recorded here.
export FARMVAULT_STATE_DIR=$work/state

run_job() { # run_job BUNDLE TOKEN LOG: the job's exit status
    local rc=0
    "$openjd" run examples/openjd/render-with-grant.yaml -p "GrantFile=$1" -p "GrantToken=$2" \
        -p Frames=1-2 >"$3" 2>&1 || rc=$?
    return "$rc"
}
no_secret_in() {
    ! grep -qF "$key" "$1" || die "$1 holds the key"
    ! grep -qF "$2" "$1" || die "$1 holds the grant token"
}

stage "openjd run within the grant's use window"
run_job "$work/job1.fvgrant" "$token" "$scratch/run1.log" || { cat "$scratch/run1.log"; die "the job failed"; }
grep -q 'openjd_redacted_env: FARMVAULT_GRANT_TOKEN=\*\*\*\*\*\*\*\*' "$scratch/run1.log" || die "the token line is not redacted"
grep -q 'farmvault: grant claimed' "$scratch/run1.log" || die "the session did not claim the grant"
for f in 1 2; do
    grep -q "frame $f: connecting to https://mysite.shotgrid.autodesk.com with key \*\*\*\$" "$scratch/run1.log" ||
        { cat "$scratch/run1.log"; die "frame $f did not run with its key masked"; }
done
no_secret_in "$scratch/run1.log" "$token"
echo "ok: two tasks read the key; the log shows it as *** and the token as ********"

stage "openjd run after the use window"
sleep 5
if run_job "$work/job1.fvgrant" "$token" "$scratch/run2.log"; then
    cat "$scratch/run2.log"
    die "a session after the grant's window succeeded"
fi
grep -q 'expired at' "$scratch/run2.log" || { cat "$scratch/run2.log"; die "the failure does not say the grant expired"; }
no_secret_in "$scratch/run2.log" "$token"
echo "ok: the session after the window fails, saying the grant expired"

if [[ -n $(grep -rlF "$key" "$work" "$FARMVAULT_STATE_DIR" 2>/dev/null) ]]; then
    die "the key is in plain text under $work"
fi
echo "ok: the key is in no file of the farm's workspace"
