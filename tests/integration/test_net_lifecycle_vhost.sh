#!/usr/bin/env bash
# test_net_lifecycle.sh with vhost=on.
NET_VHOST=on exec bash "$(dirname "$0")/test_net_lifecycle.sh"
