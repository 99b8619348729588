#!/usr/bin/env bash
# Reruns the whole benchmark — speed table (with the many-tasks PCT rows),
# speed targets, exhaustive comparison, bug zoo, world rows (turmoil; then
# madsim from a second build with `--cfg madsim`, which madsim needs and
# which would distort every other row) — and writes it to one file, with
# what it ran on.
#
#   bench/rerun.sh                       # full run: several minutes, on a quiet machine
#   bench/rerun.sh --out FILE            # choose the output file
#   bench/rerun.sh quick                 # a short run, to check that everything runs
#   bench/rerun.sh --out F speed --only 10x10    # any other arguments go to asyncsim-bench
#   bench/rerun.sh --build-only          # only build both binaries (do it ahead: the madsim
#                                        # build takes minutes, and it must not share the minutes measured)
#
# The tables go to the output file (default target/bench/bench-<UTC time>.md),
# the bench's progress lines to the same name with `.log`. Both are printed at
# the end. The peers' versions are read from Cargo.lock at build time and
# printed in every table's header.
set -euo pipefail
cd "$(dirname "$0")/.."

out=""
args=()
build_only=no
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=$2; shift 2 ;;
    --build-only) build_only=yes; shift ;;
    *) args+=("$1"); shift ;;
  esac
done
out=${out:-target/bench/bench-$(date -u +%Y%m%dT%H%M%SZ).md}
mkdir -p "$(dirname "$out")"
log="${out%.md}.log"

# madsim's rows: when the world section runs (no section named, or `world`).
madsim=yes
if printf '%s\n' ${args[@]+"${args[@]}"} | grep -qxE 'speed|zoo|world'; then
  printf '%s\n' ${args[@]+"${args[@]}"} | grep -qx world || madsim=no
fi

cargo build --release -p asyncsim-bench
bin=target/release/asyncsim-bench
if [ "$madsim" = yes ]; then
  RUSTFLAGS="--cfg madsim" cargo build --release -p asyncsim-bench --target-dir target/madsim
fi
if [ "$build_only" = yes ]; then
  echo "built: $bin$([ "$madsim" = yes ] && echo " and target/madsim/release/asyncsim-bench")"
  exit 0
fi

{
  echo "# asyncsim-bench, $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo
  echo "- command: \`bench/rerun.sh${args[*]:+ ${args[*]}}\`"
  echo "- commit: $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . 2>/dev/null || echo ' (with uncommitted changes)')"
  echo "- $(rustc -V)"
  echo "- $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')), load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo
  started=$(date +%s)
  "$bin" ${args[@]+"${args[@]}"} 2>"$log"
  if [ "$madsim" = yes ]; then
    echo "<!-- the same arguments, built with --cfg madsim: madsim's world rows -->"
    echo
    target/madsim/release/asyncsim-bench ${args[@]+"${args[@]}"} 2>>"$log"
  fi
  echo "- load average at end: $(cut -d' ' -f1-3 /proc/loadavg); $(( $(date +%s) - started )) s"
} >"$out"

cat "$out"
echo
echo "tables: $out"
echo "progress: $log"
