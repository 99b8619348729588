#!/bin/bash
# CPU time of native against face on one world workload, for a busy machine.
#
#   bench/cpu.sh BINARY WORKLOAD RUNS [ROUNDS]
#
# Runs `profile WORKLOAD RUNSr` and `profile face:WORKLOAD RUNSr` alternately,
# ROUNDS times each (default 8), and prints each side's median and fastest
# CPU time a run (user + system, from bash's `time`) and the face/native
# ratio. CPU time leaves out the time another process held the core, so it
# reads steadily where the wall clock (`world`, `ab.sh`) swings with the load;
# cache and frequency interference remain.
set -euo pipefail
b=$1; w=$2; runs=$3; n=${4:-8}
TIMEFORMAT='%U %S'
for _ in $(seq "$n"); do
  for side in "" face:; do
    t=$( { time "$b" profile "$side$w" "${runs}r" >/dev/null; } 2>&1 )
    echo "${side:-native:} $t"
  done
done | awk -v runs="$runs" '
  { us = ($2 + $3) * 1e6 / runs; v[$1, ++c[$1]] = us }
  END {
    for (k in c) {
      n = c[k]
      for (i = 1; i <= n; i++) a[i] = v[k, i]
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
      med[k] = (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2; min[k] = a[1]
    }
    printf "native median %.2f fastest %.2f us/run\n", med["native:"], min["native:"]
    printf "face   median %.2f fastest %.2f us/run\n", med["face:"], min["face:"]
    printf "face/native median %.3f fastest %.3f\n", med["face:"] / med["native:"], min["face:"] / min["native:"]
  }'
