#!/usr/bin/env bash
# --vsock with the hybrid UNIX-socket back end: the scenarios of vsock-lib.sh
# (streams, 100 connections each way, refusals, aborts); then the socket
# file is gone.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vsock-lib.sh"
require_exe "$CVMM"
host_addr() { echo "uds-connect:$UDS:$1"; }
host_listen_addr() { echo "uds-listen:${UDS}_$1"; }
# A loaded nested guest may take long to answer 100 requests: timeout= gives it 60 s.
vsock_scenarios_start --vsock "cid=3,uds=$UDS,timeout=60000"
vsock_scenarios_finish 'no OK'
[ ! -e "$UDS" ] || fail "$UDS left behind"
echo "ok: 64 MiB each way, 100 connections each way, refusals, aborts"
