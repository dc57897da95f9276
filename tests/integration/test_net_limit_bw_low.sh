#!/usr/bin/env bash
# test_net_limit_bw.sh at rx-bw=1M,tx-bw=1M with 16 MiB each way: a rate the
# rig's nested guests exceed without a limit, so the limiter must hold them.
NET_LIMIT_RATE=1 NET_LIMIT_MIB=16 exec bash "$(dirname "$0")/test_net_limit_bw.sh"
