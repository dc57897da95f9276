#!/usr/bin/env bash
# Helpers for the rate-limit tests (test_disk_limit_*.sh), sourced after lib.sh.
#
# LIMIT_GUEST_LIB is shell text for the head of a guest script. It quiets
# the kernel's console messages (they would split the test's lines), raises
# the script's own priority so that its samples are taken on time however
# busy the single vCPU is, and defines:
#   low CMD ARGS...  run CMD in the background at normal priority (the load)
#   devof SERIAL     the name (vda...) of the disk with that serial (--disk id=)
#   sample NAME DEV  print "cvmm-test: sample NAME T_BEFORE T_AFTER RIOS RSECT
#                    WIOS WSECT": /proc/uptime read just before and just after
#                    /sys/block/DEV/stat, and that file's read/write request
#                    and sector counts (requests as the device saw them, after
#                    any merging in the guest); only shell builtins run between
#                    the reads.
# expect_ceiling then checks a rate from above only: a slow machine can only
# make the guest slower, so these assertions cannot fail for lack of speed.

# shellcheck disable=SC2034 # used by the tests that source this file
LIMIT_GUEST_LIB=$(cat <<'EOF'
echo 1 >/proc/sys/kernel/printk
renice -n -20 -p $$ >/dev/null
low() { sh -c 'renice -n 20 -p $$ >/dev/null; exec "$@"' low "$@" & }
devof() {
	for _d in /sys/block/vd*; do
		[ "$(cat "$_d/serial" 2>/dev/null)" != "$1" ] || { echo "${_d##*/}"; return 0; }
	done
	echo "cvmm-test: no disk with serial $1" >&2
	return 1
}
sample() {
	read -r _b _ </proc/uptime
	read -r _s </sys/block/$2/stat
	read -r _a _ </proc/uptime
	set -- "$1" $_s
	echo "cvmm-test: sample $1 $_b $_a $2 $4 $6 $8"
}
EOF
)

# expect_ceiling WHAT COUNTER UNIT PER_UNIT CEILING BUCKET S0 S1 S2 S3
#   COUNTER: rios, rsect, wios or wsect; a count is divided by PER_UNIT to give
#   UNITs (e.g. 2048 sectors per MiB). S0..S3 name samples: S0 before the load
#   starts (the bucket then holds at most BUCKET UNITs), S1 after a warm-up,
#   S2 at least 5 s later, S3 after the load ends. Asserts:
#   - window: (S2 - S1) / elapsed <= CEILING, elapsed from S1's T_BEFORE to
#     S2's T_AFTER (so never shorter than the true interval);
#   - whole run: S3 - S0 <= BUCKET + CEILING * elapsed(S0..S3), which also
#     holds when the warm-up did not drain the bucket, and catches a limiter
#     that let the load through before the window.
# Prints the achieved rates; fails with the figures otherwise.
expect_ceiling() {
	local what=$1 counter=$2 unit=$3 per=$4 ceiling=$5 bucket=$6 col s line
	shift 6
	case $counter in
	rios) col=3 ;; rsect) col=4 ;; wios) col=5 ;; wsect) col=6 ;;
	*) fail "expect_ceiling: bad counter '$counter'" ;;
	esac
	line=
	for s in "$@"; do
		local v
		v=$(sed -n "s/^cvmm-test: sample $s //p" "$GUEST_OUT" | tail -n 1)
		[ -n "$v" ] || { show_output; fail "$what: the guest printed no sample '$s'"; }
		line="$line $v"
	done
	# shellcheck disable=SC2086 # $line is the list of sample fields
	awk -v what="$what" -v col="$col" -v unit="$unit" -v per="$per" -v ceil="$ceiling" \
		-v bucket="$bucket" 'BEGIN {
		n = split(ARGV[1], f, " "); delete ARGV[1]
		if (n != 24) { printf "%s: malformed samples: %s\n", what, ARGV[1]; exit 1 }
		for (i = 0; i < 4; i++) {
			tb[i] = f[i * 6 + 1]; ta[i] = f[i * 6 + 2]; c[i] = f[i * 6 + col] / per
		}
		win = ta[2] - tb[1]; all = ta[3] - tb[0]
		rate = (c[2] - c[1]) / win
		total = c[3] - c[0]; allowed = bucket + ceil * all
		warm = ta[1] - tb[0]
		printf "%s: warm-up %.2f s: %.1f %s; window %.2f s: %.1f %s -> %.2f %s/s (ceiling %s); whole run %.2f s: %.1f %s (allowed %.1f)\n",
			what, warm, c[1] - c[0], unit, win, c[2] - c[1], unit, rate, unit, ceil, all, total, unit, allowed
		if (win < 5) { printf "%s: window shorter than 5 s\n", what; exit 1 }
		if (rate > ceil) { printf "%s: %.2f %s/s in the window exceeds %s\n", what, rate, unit, ceil; exit 1 }
		if (total > allowed) { printf "%s: %.1f %s over the run exceeds %.1f\n", what, total, unit, allowed; exit 1 }
	}' "$line" || { show_output; fail "$what: rate ceiling not respected (figures above)"; }
}

# sample_delta COUNTER S_A S_B: COUNTER (as for expect_ceiling) at S_B minus at S_A.
sample_delta() {
	local col a b
	case $1 in
	rios) col=3 ;; rsect) col=4 ;; wios) col=5 ;; wsect) col=6 ;;
	*) fail "sample_delta: bad counter '$1'" ;;
	esac
	a=$(sed -n "s/^cvmm-test: sample $2 //p" "$GUEST_OUT" | tail -n 1 | cut -d' ' -f"$col")
	b=$(sed -n "s/^cvmm-test: sample $3 //p" "$GUEST_OUT" | tail -n 1 | cut -d' ' -f"$col")
	if [ -z "$a" ] || [ -z "$b" ]; then
		show_output
		fail "no samples '$2' and '$3'"
	fi
	echo $((b - a))
}

# region_sha256_at FILE OFFSET_KIB LEN_KIB: sha256 of that part of FILE.
region_sha256_at() {
	dd if="$1" bs=1k skip="$2" count="$3" status=none | sha256sum | cut -d' ' -f1
}
