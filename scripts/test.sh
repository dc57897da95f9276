#!/usr/bin/env bash
# Run every test of cvmm: unit tests (plain, ASan+UBSan and TSan), fuzz targets
# (60 s each), the integration tests through the nested-KVM rig, and the
# durability test (a power cut of the rig's L1 under cvmm, one result per engine).
# Prints one closing line: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
repo=$(pwd)
fuzz_seconds=${CVMM_FUZZ_SECONDS:-60}
passed=0
failed=0
failures=()

step() { printf '\n=== %s ===\n' "$*"; }
count() { # name status
	if [ "$2" -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); failures+=("$1"); fi
}
# Count meson's per-test results from its JSON log.
count_meson() { # builddir label
	local log="$1/meson-logs/testlog.json" ok bad
	if [ ! -f "$log" ]; then count "$2: meson test" 1; return; fi
	ok=$(grep -c '"result": "OK"' "$log" || true)
	bad=$(grep -c '"result": "\(FAIL\|TIMEOUT\|ERROR\|UNEXPECTEDPASS\)"' "$log" || true)
	passed=$((passed + ok)); failed=$((failed + bad))
	[ "$bad" -eq 0 ] || failures+=("$2: $bad meson test(s)")
}

step "dependencies"
scripts/install-deps.sh || { echo "install-deps failed"; echo "0 passed, 1 failed"; exit 1; }

step "build"
if ! scripts/build.sh; then
	ninja -C build | tail -40
	echo "0 passed, 1 failed"
	exit 1
fi

step "install and build the example against pkg-config"
scripts/check-install.sh
count check-install $?

step "one component built on its own (-Dcomponents=loader)"
rm -rf build-standalone
meson setup build-standalone -Dcomponents=loader >/dev/null && meson test -C build-standalone --print-errorlogs >/dev/null
count standalone-loader $?
rm -rf build-standalone

step "unit tests"
meson test -C build --suite unit --print-errorlogs
count_meson build unit

step "unit tests under ASan+UBSan"
if [ -f build-asan/build.ninja ] || meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false >/dev/null; then
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		meson test -C build-asan --suite unit --print-errorlogs
	count_meson build-asan asan
else
	count "asan: configure" 1
fi

step "unit tests under TSan"
# clang: gcc refuses atomic_thread_fence under -fsanitize=thread (-Werror=tsan).
# The suite includes virtio-blk-stress (vCPU threads against the I/O loop).
if [ -f build-tsan/build.ninja ] || CC=clang meson setup build-tsan -Db_sanitize=thread \
	-Db_lundef=false >/dev/null; then
	TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
		meson test -C build-tsan --suite unit --print-errorlogs
	count_meson build-tsan tsan
else
	count "tsan: configure" 1
fi

step "fuzz targets (${fuzz_seconds} s each)"
if [ -f build-fuzz/build.ninja ] || CC=clang meson setup build-fuzz -Dfuzz=true -Dtests=false \
	-Db_sanitize=address,undefined -Db_lundef=false >/dev/null; then
	if ninja -C build-fuzz >/dev/null; then
		# One target per core at a time; each writes its log and status.
		mapfile -t targets < <(find build-fuzz/fuzz build-fuzz/vmm -maxdepth 2 -type f -name 'fuzz-*' -executable | sort)
		fuzz_one() { # path
			local name corpus st=0
			name=$(basename "$1")
			corpus="build-fuzz/corpus/$name"
			mkdir -p "$corpus"
			"$1" -max_total_time="$fuzz_seconds" -timeout=30 -print_final_stats=1 "$corpus" \
				>"build-fuzz/$name.log" 2>&1 || st=$?
			echo "$st" >"build-fuzz/$name.status"
		}
		running=0
		for f in "${targets[@]}"; do
			fuzz_one "$f" &
			running=$((running + 1))
			if [ "$running" -ge "$(nproc)" ]; then
				wait -n || true
				running=$((running - 1))
			fi
		done
		wait
		for f in "${targets[@]}"; do
			name=$(basename "$f")
			if [ "$(cat "build-fuzz/$name.status" 2>/dev/null)" = 0 ]; then
				echo "PASS $name ($(grep -o 'stat::number_of_executed_units: *[0-9]*' "build-fuzz/$name.log" | grep -o '[0-9]*$' || echo '?') runs)"
				count "$name" 0
			else
				echo "FAIL $name"; tail -40 "build-fuzz/$name.log"
				count "$name" 1
			fi
		done
	else
		count "fuzz: build" 1
	fi
else
	count "fuzz: configure" 1
fi

step "integration tests (nested-KVM rig)"
# The tests are split over CVMM_TEST_SHARDS rigs run side by side (default:
# one per core): an L1 under TCG keeps one core busy, so two halve the time.
# Results are recorded as they happen, so a shard cut short by an L1 crash
# (rig exit 125) resumes in a fresh L1 without repeating finished tests.
shards=${CVMM_TEST_SHARDS:-$(nproc)}
[ "$shards" -ge 1 ] 2>/dev/null || shards=1
mapfile -t all_tests < <(find tests/integration -maxdepth 1 -name 'test_*.sh' -printf '%f\n' | sed 's/\.sh$//' | sort)
run_shard() { # index names...
	local i=$1 attempt st=0
	shift
	export CVMM_TEST_RESULTS=$repo/build/integration-results-$i.txt
	rm -f "$CVMM_TEST_RESULTS" "$repo/build/integration-$i.log"
	for attempt in 1 2 3; do
		st=0
		# Appended: a crashed attempt's output (and the rig's reason) stays.
		tests/rig/rig.sh -- tests/integration/run.sh "$@" >>"$repo/build/integration-$i.log" 2>&1 || st=$?
		[ "$st" = 125 ] || break
		echo "integration shard $i: the L1 crashed (attempt $attempt); resuming in a fresh L1" \
			>>"$repo/build/integration-$i.crashes"
	done
	echo "$st" >"$repo/build/integration-$i.status"
}
pids=()
for ((i = 0; i < shards; i++)); do
	names=()
	for ((j = i; j < ${#all_tests[@]}; j += shards)); do names+=("${all_tests[j]}"); done
	rm -f "build/integration-$i.crashes" "build/integration-$i.status"
	[ ${#names[@]} -gt 0 ] || continue
	run_shard "$i" "${names[@]}" &
	pids+=($!)
done
wait "${pids[@]}"
for ((i = 0; i < shards; i++)); do
	[ -f "build/integration-$i.status" ] || continue
	echo "--- shard $i ---"
	cat "build/integration-$i.crashes" 2>/dev/null || true
	cat "build/integration-$i.log"
	rig_status=$(cat "build/integration-$i.status")
	summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "build/integration-$i.log" | tail -1)
	if_=0
	if [ -n "$summary" ]; then
		ip=${summary%% passed*}
		if_=${summary#*passed, }; if_=${if_%% failed*}
		passed=$((passed + ip)); failed=$((failed + if_))
		[ "$if_" -eq 0 ] || failures+=("integration shard $i: $if_ test(s)")
	fi
	if [ -z "$summary" ] || { [ "$rig_status" -ne 0 ] && [ "$if_" -eq 0 ]; }; then
		count "integration shard $i: rig exited $rig_status" 1
	fi
done

step "durability across a power cut (tests/durability, one L1)"
# Per engine: data the guest flushed is on a host file after the L1's QEMU is SIGKILLed.
out=$(mktemp)
tests/durability/run.sh 2>&1 | tee "$out"
summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out" | tail -1)
if [ -n "$summary" ]; then
	dp=${summary%% passed*}
	df=${summary#*passed, }; df=${df%% failed*}
	passed=$((passed + dp)); failed=$((failed + df))
	[ "$df" -eq 0 ] || failures+=("durability: $df engine(s)")
else
	count "durability: no summary line" 1
fi
rm -f "$out"

step "summary"
for f in "${failures[@]}"; do echo "failed: $f"; done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
