// SPDX-License-Identifier: Apache-2.0
/* initrd placement, command line, zero page and PVH start info. Boot
 * structures are checked by reading raw offsets back from guest RAM. */
/* cmocka.h needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "loader_test.h"
#include <cmocka.h>
#include <cvmm/loader.h>
#include <cvmm/sys.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MiB (1ULL << 20)
#define RAM (64 * MiB)
#define ZERO_PAGE 0x7000ULL
#define CMDLINE 0x20000ULL

static int setup(void **state)
{
	if (loader_test_mem(state, RAM) < 0)
		return -1;
	return 0;
}

static struct cvmm_loader_kernel bz_kernel(void)
{
	return (struct cvmm_loader_kernel){
	    .kind = CVMM_LOADER_BZIMAGE,
	    .entry64 = 0x1000200,
	    .load_addr = 0x1000000,
	    .end = 0x1800000,
	    .initrd_addr_max = 0x7fffffff,
	    .cmdline_max = 2047,
	    .hdr = {.setup_sects = 27,
		    .boot_flag = CVMM_BOOT_FLAG_MAGIC,
		    .header = CVMM_BOOT_HDR_MAGIC,
		    .version = 0x020f,
		    .loadflags = CVMM_BOOT_LOADED_HIGH,
		    .initrd_addr_max = 0x7fffffff,
		    .kernel_alignment = 0x200000,
		    .relocatable_kernel = 1,
		    .xloadflags = CVMM_BOOT_XLF_KERNEL_64,
		    .cmdline_size = 2047,
		    .pref_address = 0x1000000,
		    .init_size = 0x800000},
	};
}

static uint64_t rd(const struct cvmm_mem *mem, uint64_t gpa, size_t len)
{
	uint64_t v = 0;

	assert_int_equal(cvmm_mem_read(mem, gpa, &v, len), 0);
	return v;
}

static void test_initrd_highest_in_ram(void **state)
{
	struct cvmm_loader_kernel k = bz_kernel();
	uint8_t initrd[5000];
	uint64_t gpa;

	memset(initrd, 0x3c, sizeof(initrd));
	assert_int_equal(cvmm_loader_place_initrd(*state, &k, initrd, sizeof(initrd), 0, &gpa), 0);
	assert_int_equal(gpa, (RAM - sizeof(initrd)) & ~0xfffULL);
	assert_int_equal(rd(*state, gpa + sizeof(initrd) - 1, 1), 0x3c);
}

static void test_initrd_below_addr_max_and_limit(void **state)
{
	struct cvmm_loader_kernel k = bz_kernel();
	uint8_t initrd[4096] = {0};
	uint64_t gpa;

	k.initrd_addr_max = 32 * MiB - 1;
	assert_int_equal(cvmm_loader_place_initrd(*state, &k, initrd, sizeof(initrd), 0, &gpa), 0);
	assert_int_equal(gpa, 32 * MiB - 4096);
	assert_int_equal(cvmm_loader_place_initrd(*state, &k, initrd, 100, 30 * MiB + 200, &gpa),
			 0);
	assert_int_equal(gpa, 30 * MiB);
}

static void test_initrd_too_big(void **state)
{
	struct cvmm_loader_kernel k = bz_kernel();
	uint64_t gpa = 0;
	size_t room = RAM - k.end;
	uint8_t *big = calloc(1, room + 1);

	assert_non_null(big);
	assert_int_equal(cvmm_loader_place_initrd(*state, &k, big, room + 1, 0, &gpa), -E2BIG);
	assert_msg("does not fit");
	assert_int_equal(gpa, 0);
	assert_int_equal(cvmm_loader_place_initrd(*state, &k, big, room, 0, &gpa), 0);
	assert_int_equal(gpa, k.end);
	k.initrd_addr_max = k.end - 1;
	assert_int_equal(cvmm_loader_place_initrd(*state, &k, big, 1, 0, &gpa), -ENOMEM);
	assert_msg("no room");
	assert_int_equal(cvmm_loader_place_initrd(*state, &k, big, 0, 0, &gpa), -EINVAL);
	free(big);
}

static void test_cmdline_builder(void **state)
{
	struct cvmm_loader_cmdline cl;
	char back[32];

	assert_int_equal(cvmm_loader_cmdline_init(&cl, 17), 0);
	assert_int_equal(cvmm_loader_cmdline_append(&cl, "console=ttyS0"), 0);
	assert_int_equal(cvmm_loader_cmdline_append(&cl, "quiet"), -E2BIG);
	assert_msg("exceeds the limit of 17");
	assert_string_equal(cl.buf, "console=ttyS0");
	assert_int_equal(cvmm_loader_cmdline_append(&cl, ""), 0);
	assert_int_equal(cvmm_loader_cmdline_append(&cl, "a"), 0);
	assert_int_equal(cvmm_loader_cmdline_append(&cl, "b"), 0); /* exactly 17 */
	assert_string_equal(cl.buf, "console=ttyS0 a b");
	assert_int_equal(cl.len, 17);
	assert_int_equal(cvmm_loader_cmdline_append(&cl, "c"), -E2BIG);
	assert_int_equal(cl.len, 17);
	assert_int_equal(cvmm_loader_cmdline_write(&cl, *state, CMDLINE), 0);
	assert_int_equal(cvmm_mem_read(*state, CMDLINE, back, cl.len + 1), 0);
	assert_string_equal(back, "console=ttyS0 a b");
	assert_int_equal(cvmm_loader_cmdline_write(&cl, *state, RAM - 4), -EFAULT);
	cvmm_loader_cmdline_free(&cl);
	assert_int_equal(cvmm_loader_cmdline_init(&cl, CVMM_LOADER_CMDLINE_MAX + 1), -EINVAL);
}

static const struct cvmm_e820_entry e820[] = {
    {0, 0x9fc00, CVMM_E820_RAM},
    {0x9fc00, 0x400, CVMM_E820_RESERVED},
    {0xe0000, 0x20000, CVMM_E820_ACPI},
    {0x100000, RAM - 0x100000, CVMM_E820_RAM},
};

static void test_zero_page_bzimage(void **state)
{
	struct cvmm_mem *mem = *state;
	struct cvmm_loader_kernel k = bz_kernel();
	struct cvmm_loader_boot b = {
	    .cmdline_gpa = CMDLINE,
	    .cmdline_len = 20,
	    .initrd_gpa = 0x3000000,
	    .initrd_size = 0x12345,
	    .rsdp_gpa = 0xe0000,
	    .e820 = e820,
	    .nr_e820 = 4,
	};

	assert_int_equal(cvmm_mem_fill(mem, ZERO_PAGE, 0xee, 4096), 0);
	assert_int_equal(cvmm_loader_write_boot_params(mem, ZERO_PAGE, &k, &b), 0);
	assert_int_equal(rd(mem, ZERO_PAGE + 0x000, 8), 0); /* cleared */
	assert_int_equal(rd(mem, ZERO_PAGE + 0x070, 8), 0xe0000);
	assert_int_equal(rd(mem, ZERO_PAGE + 0x0c0, 4), 0);
	assert_int_equal(rd(mem, ZERO_PAGE + 0x0c8, 4), 0);
	assert_int_equal(rd(mem, ZERO_PAGE + 0x1e8, 1), 4);
	assert_int_equal(rd(mem, ZERO_PAGE + 0x1f1, 1), 27); /* setup_sects copied */
	assert_int_equal(rd(mem, ZERO_PAGE + 0x1fe, 2), 0xaa55);
	assert_int_equal(rd(mem, ZERO_PAGE + 0x202, 4), 0x53726448);
	assert_int_equal(rd(mem, ZERO_PAGE + 0x206, 2), 0x020f);
	assert_int_equal(rd(mem, ZERO_PAGE + 0x210, 1), 0xff);
	assert_int_equal(rd(mem, ZERO_PAGE + 0x211, 1), CVMM_BOOT_LOADED_HIGH);
	assert_int_equal(rd(mem, ZERO_PAGE + 0x218, 4), 0x3000000);
	assert_int_equal(rd(mem, ZERO_PAGE + 0x21c, 4), 0x12345);
	assert_int_equal(rd(mem, ZERO_PAGE + 0x228, 4), CMDLINE);
	assert_int_equal(rd(mem, ZERO_PAGE + 0x230, 4), 0x200000);
	assert_int_equal(rd(mem, ZERO_PAGE + 0x238, 4), 20);
	assert_int_equal(rd(mem, ZERO_PAGE + 0x260, 4), 0x800000);
	for (int i = 0; i < 4; i++) {
		uint64_t e = ZERO_PAGE + 0x2d0 + 20 * i;

		assert_int_equal(rd(mem, e, 8), e820[i].addr);
		assert_int_equal(rd(mem, e + 8, 8), e820[i].size);
		assert_int_equal(rd(mem, e + 16, 4), e820[i].type);
	}
	assert_int_equal(rd(mem, ZERO_PAGE + 0x2d0 + 20 * 4, 8), 0);
	assert_int_equal(rd(mem, ZERO_PAGE + 0xff8, 8), 0);
}

static void test_zero_page_elf_high_initrd(void **state)
{
	struct cvmm_mem *mem;
	struct cvmm_loader_kernel k = {.kind = CVMM_LOADER_ELF,
				       .initrd_addr_max = UINT64_MAX,
				       .cmdline_max = CVMM_LOADER_ELF_CMDLINE_MAX};
	struct cvmm_loader_boot b = {
	    .cmdline_gpa = 0x100000010ULL,
	    .cmdline_len = 5,
	    .initrd_gpa = 0x100200000ULL,
	    .initrd_size = 0x1000,
	};

	(void)state;
	assert_int_equal(cvmm_mem_create(&mem, 4ULL << 30, NULL), 0);
	assert_int_equal(cvmm_loader_write_boot_params(mem, ZERO_PAGE, &k, &b), 0);
	assert_int_equal(rd(mem, ZERO_PAGE + 0x202, 4), 0x53726448);
	assert_int_equal(rd(mem, ZERO_PAGE + 0x1fe, 2), 0xaa55);
	assert_true(rd(mem, ZERO_PAGE + 0x206, 2) >= 0x020c);
	assert_int_equal(rd(mem, ZERO_PAGE + 0x210, 1), 0xff);
	assert_int_equal(rd(mem, ZERO_PAGE + 0x211, 1), CVMM_BOOT_LOADED_HIGH);
	assert_int_equal(rd(mem, ZERO_PAGE + 0x228, 4), 0x10);
	assert_int_equal(rd(mem, ZERO_PAGE + 0x0c8, 4), 1);
	assert_int_equal(rd(mem, ZERO_PAGE + 0x218, 4), 0x200000);
	assert_int_equal(rd(mem, ZERO_PAGE + 0x0c0, 4), 1);
	assert_int_equal(rd(mem, ZERO_PAGE + 0x21c, 4), 0x1000);
	assert_int_equal(rd(mem, ZERO_PAGE + 0x0c4, 4), 0);
	assert_int_equal(rd(mem, ZERO_PAGE + 0x1e8, 1), 0);
	cvmm_mem_destroy(mem);
}

static void test_zero_page_errors(void **state)
{
	struct cvmm_mem *mem = *state;
	struct cvmm_loader_kernel k = bz_kernel();
	struct cvmm_e820_entry many[CVMM_BOOT_E820_MAX + 1], bad = {0x1000, 0, CVMM_E820_RAM};
	struct cvmm_loader_boot b = {.e820 = many, .nr_e820 = CVMM_BOOT_E820_MAX + 1};

	for (size_t i = 0; i < CVMM_BOOT_E820_MAX + 1; i++)
		many[i] = (struct cvmm_e820_entry){i * 0x1000, 0x1000, CVMM_E820_RAM};
	assert_int_equal(cvmm_loader_write_boot_params(mem, ZERO_PAGE, &k, &b), -E2BIG);
	b.nr_e820 = CVMM_BOOT_E820_MAX;
	assert_int_equal(cvmm_loader_write_boot_params(mem, ZERO_PAGE, &k, &b), 0);
	assert_int_equal(rd(mem, ZERO_PAGE + 0x1e8, 1), CVMM_BOOT_E820_MAX);
	assert_int_equal(rd(mem, ZERO_PAGE + 0x2d0 + 20 * 127, 8), 127 * 0x1000);
	b = (struct cvmm_loader_boot){.e820 = &bad, .nr_e820 = 1};
	assert_int_equal(cvmm_loader_write_boot_params(mem, ZERO_PAGE, &k, &b), -EINVAL);
	bad.size = 1;
	bad.type = 7;
	assert_int_equal(cvmm_loader_write_boot_params(mem, ZERO_PAGE, &k, &b), -EINVAL);
	assert_msg("unknown type 7");
	b = (struct cvmm_loader_boot){.cmdline_gpa = CMDLINE, .cmdline_len = 2048};
	assert_int_equal(cvmm_loader_write_boot_params(mem, ZERO_PAGE, &k, &b), -E2BIG);
	assert_msg("kernel's limit of 2047");
	k.initrd_addr_max = 0xffffff;
	b = (struct cvmm_loader_boot){.initrd_gpa = 0xfff000, .initrd_size = 0x2000};
	assert_int_equal(cvmm_loader_write_boot_params(mem, ZERO_PAGE, &k, &b), -EINVAL);
	assert_msg("initrd_addr_max");
	b = (struct cvmm_loader_boot){.initrd_gpa = RAM - 0x1000, .initrd_size = 0x2000};
	assert_int_equal(cvmm_loader_write_boot_params(mem, ZERO_PAGE, &k, &b), -EINVAL);
	assert_msg("not in guest RAM");
	b = (struct cvmm_loader_boot){0};
	assert_int_equal(cvmm_loader_write_boot_params(mem, RAM - 0x800, &k, &b), -EFAULT);
}

static void test_pvh_start_info(void **state)
{
	struct cvmm_mem *mem = *state;
	struct cvmm_loader_pvh_layout l = {
	    .start_info_gpa = 0x6000, .modlist_gpa = 0x6100, .memmap_gpa = 0x6200};
	struct cvmm_loader_boot b = {
	    .cmdline_gpa = CMDLINE,
	    .cmdline_len = 10,
	    .initrd_gpa = 0x3000000,
	    .initrd_size = 0x4321,
	    .rsdp_gpa = 0xe0000,
	    .e820 = e820,
	    .nr_e820 = 4,
	};

	assert_int_equal(cvmm_loader_write_pvh(mem, &l, &b), 0);
	assert_int_equal(rd(mem, 0x6000, 4), 0x336ec578);
	assert_int_equal(rd(mem, 0x6004, 4), 1);
	assert_int_equal(rd(mem, 0x6008, 4), 0);
	assert_int_equal(rd(mem, 0x600c, 4), 1);
	assert_int_equal(rd(mem, 0x6010, 8), 0x6100);
	assert_int_equal(rd(mem, 0x6018, 8), CMDLINE);
	assert_int_equal(rd(mem, 0x6020, 8), 0xe0000);
	assert_int_equal(rd(mem, 0x6028, 8), 0x6200);
	assert_int_equal(rd(mem, 0x6030, 4), 4);
	assert_int_equal(rd(mem, 0x6100, 8), 0x3000000);
	assert_int_equal(rd(mem, 0x6108, 8), 0x4321);
	assert_int_equal(rd(mem, 0x6110, 8), 0);
	for (int i = 0; i < 4; i++) {
		uint64_t e = 0x6200 + 24 * i;

		assert_int_equal(rd(mem, e, 8), e820[i].addr);
		assert_int_equal(rd(mem, e + 8, 8), e820[i].size);
		assert_int_equal(rd(mem, e + 16, 4), e820[i].type);
	}
	/* No initrd: no module list. */
	b.initrd_size = 0;
	assert_int_equal(cvmm_loader_write_pvh(mem, &l, &b), 0);
	assert_int_equal(rd(mem, 0x600c, 4), 0);
	assert_int_equal(rd(mem, 0x6010, 8), 0);
	/* Memory map that would wrap around the address space. */
	l.memmap_gpa = UINT64_MAX - 24;
	assert_int_equal(cvmm_loader_write_pvh(mem, &l, &b), -EFAULT);
	assert_msg("memory map");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_initrd_highest_in_ram, setup,
					    loader_test_teardown),
	    cmocka_unit_test_setup_teardown(test_initrd_below_addr_max_and_limit, setup,
					    loader_test_teardown),
	    cmocka_unit_test_setup_teardown(test_initrd_too_big, setup, loader_test_teardown),
	    cmocka_unit_test_setup_teardown(test_cmdline_builder, setup, loader_test_teardown),
	    cmocka_unit_test_setup_teardown(test_zero_page_bzimage, setup, loader_test_teardown),
	    cmocka_unit_test(test_zero_page_elf_high_initrd),
	    cmocka_unit_test_setup_teardown(test_zero_page_errors, setup, loader_test_teardown),
	    cmocka_unit_test_setup_teardown(test_pvh_start_info, setup, loader_test_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
