#!/usr/bin/env python3
"""One cvmm run driven over its API socket; prints one line of key=value.

InstanceStart-to-init: from sending PUT /actions InstanceStart to the guest
printing MARKER. Non-guest RSS with the API up (as bench/boot/measure.py).
API latency: N sequential GET / on one keep-alive connection while the guest
runs, median and p99 in microseconds.
"""
import argparse
import os
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "boot"))
from measure import smaps_rss  # noqa: E402


def request(sock, method, path, body=None):
    data = body.encode() if body else b""
    head = f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(data)}\r\n\r\n"
    sock.sendall(head.encode() + data)
    buf = b""
    while b"\r\n\r\n" not in buf:
        buf += sock.recv(4096)
    head, rest = buf.split(b"\r\n\r\n", 1)
    status = int(head.split()[1])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v)
    while len(rest) < length:
        rest += sock.recv(4096)
    if status >= 300:
        raise RuntimeError(f"{method} {path}: {status} {rest!r}")
    return rest


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cvmm", required=True)
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--initrd", required=True)
    ap.add_argument("--sock", required=True)
    ap.add_argument("--marker", required=True)
    ap.add_argument("--guest-mib", type=int, default=128)
    ap.add_argument("--requests", type=int, default=1000)
    ap.add_argument("--timeout", type=float, default=300)
    a = ap.parse_args()
    if os.path.exists(a.sock):
        os.unlink(a.sock)
    p = subprocess.Popen([a.cvmm, "--api-sock", a.sock], stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    seen = threading.Event()
    t_init = [0.0]

    def reader():
        for line in p.stdout:
            if a.marker.encode() in line and not seen.is_set():
                t_init[0] = time.monotonic()
                seen.set()

    threading.Thread(target=reader, daemon=True).start()
    try:
        deadline = time.monotonic() + 30
        while not os.path.exists(a.sock):
            if time.monotonic() > deadline:
                raise RuntimeError("no API socket")
            time.sleep(0.01)
        s = socket.socket(socket.AF_UNIX)
        s.connect(a.sock)
        request(s, "PUT", "/machine-config",
                f'{{"vcpu_count": 1, "mem_size_mib": {a.guest_mib}}}')
        request(s, "PUT", "/boot-source",
                f'{{"kernel_image_path": "{a.kernel}", "initrd_path": "{a.initrd}", '
                '"boot_args": "console=ttyS0 reboot=k panic=1"}')
        t0 = time.monotonic()
        request(s, "PUT", "/actions", '{"action_type": "InstanceStart"}')
        if not seen.wait(a.timeout):
            raise RuntimeError("no marker")
        boot_ms = (t_init[0] - t0) * 1000
        lat = []
        for _ in range(a.requests):
            t = time.monotonic()
            request(s, "GET", "/")
            lat.append((time.monotonic() - t) * 1e6)
        lat.sort()
        rss, _ = smaps_rss(p.pid, a.guest_mib * 1024)
        print(f"start_to_init_ms={boot_ms:.1f} rss_kib={rss} "
              f"api_median_us={lat[len(lat) // 2]:.0f} "
              f"api_p99_us={lat[min(len(lat) - 1, len(lat) * 99 // 100)]:.0f}")
    finally:
        p.kill()
        p.wait()


if __name__ == "__main__":
    main()
