#!/usr/bin/env python3
"""Run one VMM boot and measure it (used by bench/boot/run.sh).

  measure.py --marker TEXT --guest-mib N [--sample-delay S] [--timeout S] -- CMD...

Boot-to-init: wall time from spawning CMD to the first stdout line holding
TEXT. Non-guest RSS: the sum of Rss over /proc/PID/smaps, sampled
--sample-delay seconds after the marker, leaving out the guest RAM mapping
(the anonymous mapping of exactly N MiB; failing that, the smallest anonymous
mapping of at least N MiB). Prints one line:
  boot_ms=F rss_kib=N guest_map_kib=N boot_timer_ms=F|- status=N
"""
import argparse
import re
import subprocess
import sys
import threading
import time

HEADER = re.compile(r"^[0-9a-f]+-[0-9a-f]+ ")


def smaps_rss(pid, guest_kib):
    maps = []  # [anonymous, size_kib, rss_kib]
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            if HEADER.match(line):
                fields = line.split(None, 5)
                path = fields[5].strip() if len(fields) > 5 else ""
                maps.append([path == "" or path.startswith("[anon"), 0, 0])
            elif line.startswith("Size:"):
                maps[-1][1] = int(line.split()[1])
            elif line.startswith("Rss:"):
                maps[-1][2] = int(line.split()[1])
    exact = [m for m in maps if m[0] and m[1] == guest_kib]
    bigger = sorted((m for m in maps if m[0] and m[1] > guest_kib), key=lambda m: m[1])
    guest = exact[0] if exact else (bigger[0] if bigger else None)
    total = sum(m[2] for m in maps if m is not guest)
    return total, guest[1] if guest else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--marker", required=True)
    ap.add_argument("--guest-mib", type=int, required=True)
    ap.add_argument("--sample-delay", type=float, default=1.0)
    ap.add_argument("--timeout", type=float, default=120.0)
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd[:1] == ["--"] else a.cmd
    marker = a.marker.encode()

    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    seen = threading.Event()
    t_marker = [None]
    out, err = [], []

    def read_stdout():
        for line in p.stdout:
            if t_marker[0] is None and marker in line:
                t_marker[0] = time.monotonic()
                seen.set()
            out.append(line)

    def read_stderr():
        for line in p.stderr:
            err.append(line)

    threads = [threading.Thread(target=read_stdout, daemon=True),
               threading.Thread(target=read_stderr, daemon=True)]
    for t in threads:
        t.start()

    rss = guest_map = -1
    if seen.wait(a.timeout):
        time.sleep(a.sample_delay)
        try:
            rss, guest_map = smaps_rss(p.pid, a.guest_mib * 1024)
        except OSError:
            pass
    try:
        status = p.wait(timeout=max(1.0, a.timeout - (time.monotonic() - t0)))
    except subprocess.TimeoutExpired:
        p.kill()
        status = p.wait()
    for t in threads:
        t.join(5)

    timer = "-"
    for line in err:
        m = re.search(rb"cvmm: boot-timer: ([0-9.]+) ms", line)
        if m:
            timer = m.group(1).decode()
    if t_marker[0] is None or rss < 0:
        sys.stderr.write(f"measure: no '{a.marker}' (status {status}) from {cmd[0]}; output tail:\n")
        sys.stderr.write(b"".join((out + err)[-30:]).decode(errors="replace"))
        print(f"boot_ms=- rss_kib=- guest_map_kib=- boot_timer_ms={timer} status={status}")
        return 1
    boot_ms = (t_marker[0] - t0) * 1000.0
    print(f"boot_ms={boot_ms:.1f} rss_kib={rss} guest_map_kib={guest_map} "
          f"boot_timer_ms={timer} status={status}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
