// SPDX-License-Identifier: Apache-2.0
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "cli_parse.h"

static void test_defaults(void **state)
{
	struct vmm_config cfg;

	(void)state;
	assert_int_equal(PARSE(&cfg, "--kernel", "k"), 0);
	assert_string_equal(cfg.kernel, "k");
	assert_int_equal(cfg.cpus, 1);
	assert_int_equal(cfg.memory_mib, 128);
	assert_null(cfg.cmdline);
	assert_false(cfg.no_acpi);
	assert_int_equal(cfg.nr_disks, 0);
	vmm_cli_free(&cfg);
}

static void test_bad_numbers_refused(void **state)
{
	struct vmm_config cfg;

	(void)state;
	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--cpus", "0"), -EINVAL);
	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--cpus", "255"), -EINVAL);
	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--cpus", "2x"), -EINVAL);
	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--cpus", "-1"), -EINVAL);
	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--memory", "0"), -EINVAL);
	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--memory", "99999999999999999999"), -EINVAL);
	assert_int_equal(PARSE(&cfg, "--cpus", "2"), -EINVAL); /* no kernel */
	assert_int_equal(PARSE(&cfg, "--kernel", "k", "stray"), -EINVAL);
	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--bogus"), -EINVAL);
	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--cpus", "254", "--memory", "4096"), 0);
	assert_int_equal(cfg.cpus, 254);
	assert_int_equal(cfg.memory_mib, 4096);
}

static void test_disk_spec(void **state)
{
	struct vmm_config cfg;

	(void)state;
	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--disk",
			       "path=/a.img,ro,root,engine=sync,cache=unsafe,id=data1", "--disk",
			       "path=/b.img"),
			 0);
	assert_int_equal(cfg.nr_disks, 2);
	assert_string_equal(cfg.disks[0].path, "/a.img");
	assert_true(cfg.disks[0].read_only);
	assert_true(cfg.disks[0].root);
	assert_int_equal(cfg.disks[0].engine, VMM_DISK_ENGINE_SYNC);
	assert_int_equal(cfg.disks[0].cache, VMM_DISK_CACHE_UNSAFE);
	assert_string_equal(cfg.disks[0].id, "data1");
	assert_int_equal(cfg.disks[1].engine, VMM_DISK_ENGINE_IO_URING);
	assert_int_equal(cfg.disks[1].cache, VMM_DISK_CACHE_WRITEBACK);
	assert_false(cfg.disks[1].read_only);
	vmm_cli_free(&cfg);
}

static void test_bad_disk_specs(void **state)
{
	static const char *const bad[] = {
	    "ro",		    /* no path */
	    "path=",		    /* empty path */
	    "path=/a,engine=bogus", /* bad value */
	    "path=/a,cache=none",   /* bad value */
	    "path=/a,color=blue",   /* unknown key */
	    "path=/a,ro=1",	    /* flag with a value */
	};
	struct vmm_config cfg;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(PARSE(&cfg, "--kernel", "k", "--disk", bad[i]), -EINVAL);
		vmm_cli_free(&cfg);
	}
	assert_int_equal(
	    PARSE(&cfg, "--kernel", "k", "--disk", "path=/a,root", "--disk", "path=/b,root"),
	    -EINVAL);
	vmm_cli_free(&cfg);
}

static void test_disk_limits(void **state)
{
	struct vmm_config cfg;

	(void)state;
	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--disk", "path=a,iops=500/100+50,bw=4M"), 0);
	assert_true(cfg.disks[0].limited);
	assert_int_equal(cfg.disks[0].limit.ops.size, 500);
	assert_int_equal(cfg.disks[0].limit.ops.refill_time_ms, 100);
	assert_int_equal(cfg.disks[0].limit.ops.one_time_burst, 50);
	assert_int_equal(cfg.disks[0].limit.bytes.size, 4u << 20);
	assert_int_equal(cfg.disks[0].limit.bytes.refill_time_ms, 1000);
	vmm_cli_free(&cfg);
	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--disk", "path=a"), 0);
	assert_false(cfg.disks[0].limited);
	vmm_cli_free(&cfg);
	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--disk", "path=a,bw="), -EINVAL);
	vmm_cli_free(&cfg);
	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--disk", "path=a,iops"), -EINVAL);
	vmm_cli_free(&cfg);
	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--disk", "path=a,bw=4X"), -EINVAL);
	vmm_cli_free(&cfg);
	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--disk", "path=a,iops=-5"), -EINVAL);
	vmm_cli_free(&cfg);
}

static void test_rng(void **state)
{
	struct vmm_config cfg;

	(void)state;
	assert_int_equal(PARSE(&cfg, "--kernel", "k"), 0);
	assert_false(cfg.rng);
	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--rng"), 0);
	assert_true(cfg.rng);
	assert_int_equal(PARSE(&cfg, "--rng", "--kernel", "k"), 0); /* an option is no value */
	assert_true(cfg.rng);
	assert_string_equal(cfg.kernel, "k");
	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--rng="), 0);
	assert_true(cfg.rng);
	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--rng", "foo=1"), -EINVAL);
	assert_false(cfg.rng_limited);
	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--rng=bw=1M"), 0);
	assert_true(cfg.rng_limited);
	assert_int_equal(cfg.rng_limit.bytes.size, 1u << 20);
	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--rng", "bw=64K,iops=10/100"), 0);
	assert_int_equal(cfg.rng_limit.bytes.size, 64u << 10);
	assert_int_equal(cfg.rng_limit.ops.size, 10);
	assert_int_equal(cfg.rng_limit.ops.refill_time_ms, 100);
	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--rng", "bw=64Q"), -EINVAL);
	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--rng", ",flag"), -EINVAL);
	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--rng", "--rng"), -EINVAL);
}

static void test_vsock_timeout(void **state)
{
	struct vmm_config cfg;

	(void)state;
	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--vsock", "cid=3,uds=/v"), 0);
	assert_int_equal(cfg.vsock.timeout_ms, 0);
	vmm_cli_free(&cfg);
	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--vsock", "cid=3,uds=/v,timeout=60000"), 0);
	assert_int_equal(cfg.vsock.timeout_ms, 60000);
	vmm_cli_free(&cfg);
	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--vsock", "cid=3,uds=/v,timeout=0"),
			 -EINVAL);
	vmm_cli_free(&cfg);
	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--vsock", "cid=3,uds=/v,timeout=5s"),
			 -EINVAL);
	vmm_cli_free(&cfg);
	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--vsock", "cid=3,vhost=on,timeout=9"),
			 -EINVAL);
	vmm_cli_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),	  cmocka_unit_test(test_bad_numbers_refused),
	    cmocka_unit_test(test_disk_spec),	  cmocka_unit_test(test_bad_disk_specs),
	    cmocka_unit_test(test_disk_limits),	  cmocka_unit_test(test_rng),
	    cmocka_unit_test(test_vsock_timeout),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
