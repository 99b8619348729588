#!/bin/bash
# Wall-clock A/B of two builds of asyncsim-bench on one `profile` workload.
#
#   bench/ab.sh OLD_BINARY NEW_BINARY WORKLOAD [ROUNDS]
#
# Alternates the two binaries, ROUNDS times each (default 12), 0.2 s a slice,
# and prints each one's fastest and mean µs per run. Alternating spreads the
# machine's interference over both; the fastest slice is the least disturbed.
# Use this, not instruction counts, to judge changes that move branches: a
# random schedule's mispredicted branches cost more than they show in callgrind.
set -euo pipefail
a=$1; b=$2; w=$3; n=${4:-12}
for _ in $(seq "$n"); do
  echo "A $("$a" profile "$w" 0.2 | tail -1 | sed 's/.*runs, \([0-9.]*\) us.*/\1/')"
  echo "B $("$b" profile "$w" 0.2 | tail -1 | sed 's/.*runs, \([0-9.]*\) us.*/\1/')"
done | awk '{ if (!($1 in m) || $2 < m[$1]) m[$1] = $2; s[$1] += $2; c[$1]++ }
            END { for (k in m) printf "%s fastest %.3f mean %.3f us/run\n", k, m[k], s[k] / c[k] }' | sort
