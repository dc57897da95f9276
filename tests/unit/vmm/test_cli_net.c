// SPDX-License-Identifier: Apache-2.0
/* --net parsing: every key, repetition, and each refusal names its key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "cli_parse.h"

static void test_net_full(void **state)
{
	static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0xab, 0xcd, 0xef};
	struct vmm_config cfg;

	(void)state;
	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--net",
			       "tap=tap0,mac=52:54:00:AB:cd:ef,mtu=9000,id=uplink,rx-bw=8M,tx-iops="
			       "1000/100+50",
			       "--net", "tap=tap1,vhost=on", "--net", "tap=tap2,vhost=off"),
			 0);
	assert_int_equal(cfg.nr_nets, 3);
	assert_string_equal(cfg.nets[0].tap, "tap0");
	assert_string_equal(cfg.nets[0].id, "uplink");
	assert_true(cfg.nets[0].has_mac);
	assert_memory_equal(cfg.nets[0].mac, mac, 6);
	assert_int_equal(cfg.nets[0].mtu, 9000);
	assert_false(cfg.nets[0].vhost);
	assert_true(cfg.nets[0].rx_limited);
	assert_int_equal(cfg.nets[0].rx_limit.bytes.size, 8u << 20);
	assert_int_equal(cfg.nets[0].rx_limit.ops.size, 0);
	assert_true(cfg.nets[0].tx_limited);
	assert_int_equal(cfg.nets[0].tx_limit.ops.size, 1000);
	assert_int_equal(cfg.nets[0].tx_limit.ops.refill_time_ms, 100);
	assert_int_equal(cfg.nets[0].tx_limit.ops.one_time_burst, 50);
	assert_true(cfg.nets[1].vhost);
	assert_false(cfg.nets[1].has_mac);
	assert_int_equal(cfg.nets[1].mtu, 0);
	assert_null(cfg.nets[1].id);
	assert_false(cfg.nets[2].vhost);
	vmm_cli_free(&cfg);
}

static void test_net_refused(void **state)
{
	static const char *const bad[] = {
	    "",
	    "mac=52:54:00:12:34:56",
	    "tap=",
	    "tap=t,mac=52:54:00:12:34",
	    "tap=t,mac=52:54:00:12:34:56:78",
	    "tap=t,mac=52-54-00-12-34-56",
	    "tap=t,mac=5:54:00:12:34:56",
	    "tap=t,mac=53:54:00:12:34:56", /* multicast */
	    "tap=t,mac=52:54:00:12:34:5g",
	    "tap=t,mtu=67",
	    "tap=t,mtu=65536",
	    "tap=t,mtu=",
	    "tap=t,mtu=+100",
	    "tap=t,vhost=1",
	    "tap=t,vhost",
	    "tap=t,rx-bw=",
	    "tap=t,tx-iops=x",
	    "tap=t,rx-speed=1",
	    "tap=t,vhost=on,rx-bw=1M",
	    "tap=t,vhost=on,tx-iops=10",
	    "tap=t,colour=blue",
	};
	struct vmm_config cfg;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(PARSE(&cfg, "--kernel", "k", "--net", bad[i]), -EINVAL);
		vmm_cli_free(&cfg);
	}
	/* At most 8. */
	assert_int_equal(PARSE(&cfg, "--kernel", "k", "--net", "tap=a", "--net", "tap=b", "--net",
			       "tap=c", "--net", "tap=d", "--net", "tap=e", "--net", "tap=f",
			       "--net", "tap=g", "--net", "tap=h", "--net", "tap=i"),
			 -EINVAL);
	vmm_cli_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_net_full),
	    cmocka_unit_test(test_net_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
