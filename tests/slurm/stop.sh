#!/usr/bin/env bash
# Tear down the test Slurm cluster started by tests/slurm/start.sh:
# stops slurmd, slurmctld and munged and removes Slurm state so that a later
# start.sh is clean. Never fails if things are already stopped.
set -u

log() { echo "[slurm-stop] $*" >&2; }

# Cancel anything still queued/running (best effort, quick).
if command -v scancel >/dev/null 2>&1 && [ -e /etc/slurm/slurm.conf ]; then
  timeout 10 scancel --full --quiet -u root >/dev/null 2>&1 || true
fi

stop_daemon() { # name pidfile
  local name=$1 pidfile=$2 pid=""
  if [ -s "$pidfile" ]; then pid=$(cat "$pidfile" 2>/dev/null || true); fi
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
  fi
  # also catch instances without/with stale pid file (exact process name only)
  pkill -TERM -x "$name" 2>/dev/null || true
  for _ in $(seq 1 50); do
    pgrep -x "$name" >/dev/null 2>&1 || break
    sleep 0.2
  done
  if pgrep -x "$name" >/dev/null 2>&1; then
    log "$name did not exit on TERM; killing"
    pkill -KILL -x "$name" 2>/dev/null || true
    sleep 0.5
  fi
  rm -f "$pidfile"
}

stop_daemon slurmd /run/slurmd.pid
# leftover job step daemons
pkill -KILL -x slurmstepd 2>/dev/null || true
stop_daemon slurmctld /run/slurmctld.pid
stop_daemon munged /run/munge/munged.pid
rm -f /run/munge/munge.socket.2 /run/munge/munge.socket.2.lock

# Remove Slurm state so the next start is clean (keep config + munge key).
rm -rf /var/spool/slurmctld/* /var/spool/slurmd/* 2>/dev/null || true
log "stopped"
exit 0
