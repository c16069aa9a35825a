#!/bin/sh
# npm start: build when needed, then run the service on its local defaults (no credentials needed).
set -e
if [ ! -f dist/apps/control-plane/src/main.js ] || [ -n "$(find apps libs -name '*.ts' -newer dist/apps/control-plane/src/main.js 2>/dev/null | head -1)" ]; then
  nest build
fi
# The control room page (/ui, docs/control-room.md): bundled after nest build (which empties dist/), or again when its
# sources changed. Skipped where there are no sources (the Docker image, which ships dist/ as built).
ui=dist/libs/control-room/web/main.js
if [ -f libs/control-room/build/bundle-web.ts ] &&
  { [ ! -f "$ui" ] || [ -n "$(find libs/control-room/web -newer "$ui" 2>/dev/null | head -1)" ]; }; then
  node --disable-warning=MODULE_TYPELESS_PACKAGE_JSON libs/control-room/build/bundle-web.ts
fi
# A smaller young generation and an old-space cap: V8 otherwise lets the heap grow to about 4x the live set
# before collecting (RSS 0.4-0.5 GB under load here); capped, the peak stays under 300 MiB, at the price of more
# full collections (CPU per request +2-7 % at 10 connections, up to +25 % at 50; bench/RESULTS.md).
# A --max-old-space-size in NODE_OPTIONS wins over this default.
# --expose-gc: once a load is over and the loop idle, the service hands the heap pages V8 keeps back to the OS with
# one memory-reducing collection (MEMORY_RELEASE_IDLE_MS, docs/operations.md "Memory"); V8 offers no other way.
# --v8-pool-size=1 on a single core: V8's worker pool (concurrent marking and sweeping, parallel scavenges, background
# compilation) has 4 threads by default, and on one core they take it from the main thread: one thread cut p99 at 10
# connections from 66 to 36 ms at the same CPU per call, for about 40 MiB more peak RSS (bench/RESULTS.md). The
# cores counted are what nproc reports (CPU affinity: a pinned process), lowered by the container's CPU quota when it
# has one (cgroup v2 cpu.max, v1 cpu.cfs_quota_us: docker --cpus=1, a platform's "1 vCPU"; a quota of 0.5 core counts
# as 1), since nproc does not see a quota. CGROUP_FS names another cgroup mount (default /sys/fs/cgroup).
# A --v8-pool-size in NODE_OPTIONS wins.
cores() {
  n=$(nproc 2>/dev/null || echo 0)
  fs="${CGROUP_FS:-/sys/fs/cgroup}"
  quota=""
  period=""
  if [ -r "$fs/cpu.max" ]; then
    read -r quota period <"$fs/cpu.max" || true
  elif [ -r "$fs/cpu/cpu.cfs_quota_us" ] && [ -r "$fs/cpu/cpu.cfs_period_us" ]; then
    quota=$(cat "$fs/cpu/cpu.cfs_quota_us")
    period=$(cat "$fs/cpu/cpu.cfs_period_us")
  fi
  # Only whole positive numbers: "max" and -1 mean no quota; anything else unreadable is ignored.
  case "$quota$period" in
    '' | *[!0-9]*) ;;
    *) if [ "$period" -gt 0 ] && [ "$quota" -gt 0 ]; then
      q=$(((quota + period - 1) / period))
      case "$n" in '' | *[!0-9]* | 0) n=$q ;; *) if [ "$q" -lt "$n" ]; then n=$q; fi ;; esac
    fi ;;
  esac
  echo "$n"
}
pool=""
case "${NODE_OPTIONS:-}" in
  *v8-pool-size*) ;;
  *) if [ "$(cores)" = 1 ]; then pool="--v8-pool-size=1"; fi ;;
esac
case "${NODE_OPTIONS:-}" in
  *max-old-space-size*) exec node --expose-gc --max-semi-space-size=8 $pool dist/apps/control-plane/src/main.js ;;
  *) exec node --expose-gc --max-semi-space-size=8 --max-old-space-size=320 $pool dist/apps/control-plane/src/main.js ;;
esac
