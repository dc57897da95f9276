#!/usr/bin/env bash
# The API's device endpoints on a booted guest: PUT /network-interfaces with
# a rate limiter and PUT /vsock before InstanceStart give the guest eth0
# (with the MAC asked for) and a vsock device; PATCH /network-interfaces
# changes the limits live, refuses an unknown interface or field with 400,
# and traffic flows on; the metrics count the interface's frames; the vsock
# socket is removed at exit.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/disk-lib.sh"
. "$(dirname "$0")/net-lib.sh"
. "$(dirname "$0")/api-lib.sh"
command -v curl >/dev/null || fail "curl is missing (scripts/install-deps.sh)"
net_setup
net_tap cvmmt0 192.0.2.1/24
# shellcheck disable=SC2016 # the single-quoted text is the guest script
make_initrd_with_test "$GUEST_NET_UP"'
echo "cvmm-test: mac=$(cat /sys/class/net/eth0/address)"
echo "cvmm-test: ids=$(cat /sys/bus/virtio/devices/*/device | sort | tr "\n" " ")"
ping -c 3 -W 10 192.0.2.1 >/dev/null && echo "cvmm-test: ping-host=ok"
echo "cvmm-test: ready"
while true; do sleep 1; done' "$TEST_TMP/initrd"

start_api_cvmm --id devices
api_ok PUT /machine-config '{"vcpu_count": 1, "mem_size_mib": 128}'
api_ok PUT /boot-source "{\"kernel_image_path\": \"$RIG_BZIMAGE\", \"initrd_path\": \"$TEST_TMP/initrd\", \"boot_args\": \"console=ttyS0 reboot=k panic=1\"}"
api_bad PUT /network-interfaces/eth0 '{"iface_id": "eth1", "host_dev_name": "cvmmt0"}' 'iface_id'
api_bad PUT /network-interfaces/eth0 '{"iface_id": "eth0", "host_dev_name": "cvmmt0", "guest_mac": "52:54:00:zz:00:01"}' 'guest_mac'
api_ok PUT /network-interfaces/eth0 '{"iface_id": "eth0", "host_dev_name": "cvmmt0", "guest_mac": "52:54:00:ab:cd:ef", "tx_rate_limiter": {"bandwidth": {"size": 8388608, "refill_time": 1000}}}'
api_ok PUT /vsock "{\"guest_cid\": 3, \"uds_path\": \"$TEST_TMP/v.sock\"}"
api_ok PUT /metrics "{\"metrics_path\": \"$TEST_TMP/metrics\"}"
api_ok PUT /actions '{"action_type": "InstanceStart"}'
wait_stdout '^cvmm-test: ready'
host_ping 192.0.2.2 || { show_output; fail "no reply from the guest"; }
grep -q '^cvmm-test: mac=52:54:00:ab:cd:ef' "$GUEST_STDOUT" || fail "the guest's MAC is not the one PUT"
grep -q '^cvmm-test: ping-host=ok' "$GUEST_STDOUT" || fail "the guest could not ping the host"
grep -Eq '^cvmm-test: ids=.*0x0013' "$GUEST_STDOUT" || fail "the guest has no vsock device: $(grep ids= "$GUEST_STDOUT")"
[ -S "$TEST_TMP/v.sock" ] || fail "no vsock socket at uds_path"

# Live limits: changed, refused when wrong, and the interface carries on.
api_ok PATCH /network-interfaces/eth0 '{"iface_id": "eth0", "rx_rate_limiter": {"ops": {"size": 1000, "refill_time": 1000}}, "tx_rate_limiter": {"bandwidth": {"size": 16777216, "refill_time": 1000}}}'
api_bad PATCH /network-interfaces/nope '{"iface_id": "nope", "rx_rate_limiter": {"ops": {"size": 1, "refill_time": 1000}}}' 'nope'
api_bad PATCH /network-interfaces/eth0 '{"iface_id": "eth0", "host_dev_name": "cvmmt1"}' 'host_dev_name'
api_bad PATCH /network-interfaces/eth0 '{"iface_id": "eth0", "rx_rate_limiter": {"ops": {"size": -1}}}' 'size'
host_ping 192.0.2.2 || { show_output; fail "no reply from the guest after PATCH"; }
[ "$(api_state)" = Running ] || fail "state after PATCH: $(api_state)"

# Metrics: the interface's frames both ways, and the vsock device.
api_ok PUT /actions '{"action_type": "FlushMetrics"}'
python3 - "$TEST_TMP/metrics" <<'PY' || fail "metrics: $(tail -1 "$TEST_TMP/metrics")"
import json, sys
m = json.loads(open(sys.argv[1]).readlines()[-1])
e = m["net"]["eth0"]
assert e["rx_frames"] >= 6 and e["tx_frames"] >= 6 and e["rx_bytes"] > 0, e
assert m["vsock"]["conns_opened"] == 0, m["vsock"]
PY

api_ok PUT /actions '{"action_type": "SendCtrlAltDel"}'
rc=0
wait_exit || rc=$?
expect_status 0 "$rc"
[ ! -e "$TEST_TMP/v.sock" ] || fail "the vsock socket was not removed at exit"
[ ! -e "$API_SOCK" ] || fail "the API socket was not removed at exit"
echo "ok: network interface and vsock through the API, live limits, metrics"
