// SPDX-License-Identifier: Apache-2.0
/* bzImage loading from a synthetic image, plus a real kernel when present. */
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
#include <unistd.h>

#define RAM (64ULL << 20)
#define SETUP_SECTS 3
#define KERNEL_SIZE 0x1000
#define PREF 0x1000000ULL
#define INIT_SIZE 0x800000U
#define REAL_KERNEL "/tmp/kimg/x/boot/vmlinuz-6.1.0-56-amd64"

static uint8_t img[(SETUP_SECTS + 1) * 512 + KERNEL_SIZE];
static struct cvmm_setup_header hdr;

/* Store hdr into the image, with setup_sects sectors of setup code. */
static void put_header(void)
{
	memcpy(img + 0x1f1, &hdr, sizeof(hdr));
}

static void build_bzimage(void)
{
	memset(img, 0, sizeof(img));
	memset(img + (SETUP_SECTS + 1) * 512, 0x6b, KERNEL_SIZE);
	hdr = (struct cvmm_setup_header){
	    .setup_sects = SETUP_SECTS,
	    .boot_flag = CVMM_BOOT_FLAG_MAGIC,
	    .jump = 0x6aeb, /* jmp to 0x26c: the whole 2.15 header */
	    .header = CVMM_BOOT_HDR_MAGIC,
	    .version = 0x020f,
	    .loadflags = CVMM_BOOT_LOADED_HIGH,
	    .initrd_addr_max = 0x7fffffff,
	    .kernel_alignment = 0x200000,
	    .relocatable_kernel = 1,
	    .xloadflags = CVMM_BOOT_XLF_KERNEL_64 | CVMM_BOOT_XLF_CAN_BE_LOADED_ABOVE_4G,
	    .cmdline_size = 2047,
	    .pref_address = PREF,
	    .init_size = INIT_SIZE,
	};
	put_header();
}

static int setup(void **state)
{
	if (loader_test_mem(state, RAM) < 0)
		return -1;
	build_bzimage();
	return 0;
}

static void expect_error(void **state, int err, const char *needle)
{
	struct cvmm_loader_kernel k;

	put_header();
	assert_int_equal(cvmm_loader_load_bzimage(*state, img, sizeof(img), &k), err);
	assert_msg(needle);
}

static void test_valid_bzimage(void **state)
{
	struct cvmm_mem *mem = *state;
	struct cvmm_loader_kernel k;
	const uint8_t *ram;

	assert_int_equal(cvmm_loader_load(mem, img, sizeof(img), &k), 0);
	assert_int_equal(k.kind, CVMM_LOADER_BZIMAGE);
	assert_int_equal(k.load_addr, PREF);
	assert_int_equal(k.entry64, PREF + 0x200);
	assert_int_equal(k.end, PREF + INIT_SIZE);
	assert_int_equal(k.initrd_addr_max, 0x7fffffff);
	assert_int_equal(k.cmdline_max, 2047);
	assert_memory_equal(&k.hdr, &hdr, sizeof(hdr));
	ram = cvmm_mem_ptr(mem, PREF, KERNEL_SIZE);
	assert_int_equal(ram[0], 0x6b);
	assert_int_equal(ram[KERNEL_SIZE - 1], 0x6b);
}

static void test_setup_sects_zero_means_four(void **state)
{
	struct cvmm_loader_kernel k;
	const uint8_t *ram;

	hdr.setup_sects = 0;
	put_header();
	img[5 * 512] = 0x99; /* first byte after 4 + 1 setup sectors */
	assert_int_equal(cvmm_loader_load_bzimage(*state, img, sizeof(img), &k), 0);
	ram = cvmm_mem_ptr(*state, PREF, 1);
	assert_int_equal(ram[0], 0x99);
}

static void test_old_protocol_refused(void **state)
{
	hdr.version = 0x0205;
	expect_error(state, -ENOEXEC, "boot protocol 2.05 is older than 2.06");
}

static void test_not_loaded_high_refused(void **state)
{
	hdr.loadflags = 0;
	expect_error(state, -ENOEXEC, "LOADED_HIGH");
}

static void test_no_64bit_entry_refused(void **state)
{
	hdr.xloadflags = 0;
	expect_error(state, -ENOEXEC, "no 64-bit entry");
}

static void test_setup_beyond_file(void **state)
{
	hdr.setup_sects = 200;
	expect_error(state, -ENOEXEC, "setup_sects 200");
	assert_msg("beyond end of file");
}

static void test_truncated_and_bad_magic(void **state)
{
	struct cvmm_loader_kernel k;

	assert_int_equal(cvmm_loader_load_bzimage(*state, img, 0x220, &k), -ENOEXEC);
	assert_msg("shorter than the setup header");
	hdr.header = 0x12345678;
	expect_error(state, -ENOEXEC, "HdrS");
	build_bzimage();
	hdr.jump = 0x10eb; /* header would end at 0x212 */
	expect_error(state, -ENOEXEC, "setup header ends at 0x212");
}

static void test_bad_alignment_refused(void **state)
{
	hdr.kernel_alignment = 0x300000;
	expect_error(state, -ENOEXEC, "kernel_alignment 0x300000 is not a power of two");
}

static void test_unaligned_pref_falls_back(void **state)
{
	struct cvmm_loader_kernel k;

	hdr.pref_address = PREF + 0x1000;
	put_header();
	assert_int_equal(cvmm_loader_load_bzimage(*state, img, sizeof(img), &k), 0);
	assert_int_equal(k.load_addr, 0x200000); /* 1 MiB rounded up to 2 MiB */
	assert_int_equal(k.entry64, 0x200200);
	/* The decompressor still runs at pref_address. */
	assert_int_equal(k.end, PREF + 0x1000 + INIT_SIZE);
}

static void test_non_relocatable_at_1mib(void **state)
{
	struct cvmm_loader_kernel k;

	hdr.relocatable_kernel = 0;
	hdr.kernel_alignment = 0; /* ignored when not relocatable */
	put_header();
	assert_int_equal(cvmm_loader_load_bzimage(*state, img, sizeof(img), &k), 0);
	assert_int_equal(k.load_addr, CVMM_LOADER_BZIMAGE_LOW_ADDR);
	assert_int_equal(k.entry64, CVMM_LOADER_BZIMAGE_LOW_ADDR + 0x200);
}

static void test_does_not_fit_in_ram(void **state)
{
	hdr.init_size = (uint32_t)RAM;
	expect_error(state, -ENOMEM, "kernel needs guest RAM");
	build_bzimage();
	hdr.pref_address = UINT64_MAX - 0xfff;
	expect_error(state, -ENOEXEC, "overflows");
}

static void test_real_debian_kernel(void **state)
{
	struct cvmm_mem *mem;
	struct cvmm_loader_kernel k;
	uint8_t *data;
	size_t size;

	(void)state;
	if (access(REAL_KERNEL, R_OK) != 0)
		skip();
	assert_int_equal(cvmm_file_read_all(REAL_KERNEL, 64 << 20, &data, &size), 0);
	assert_int_equal(cvmm_mem_create(&mem, 256ULL << 20, NULL), 0);
	assert_int_equal(cvmm_loader_detect(data, size), CVMM_LOADER_BZIMAGE);
	assert_int_equal(cvmm_loader_load(mem, data, size, &k), 0);
	assert_true(k.hdr.version >= 0x020f);
	assert_true(k.hdr.xloadflags & CVMM_BOOT_XLF_KERNEL_64);
	assert_int_equal(k.load_addr, k.hdr.pref_address);
	assert_int_equal(k.entry64, k.load_addr + 0x200);
	assert_int_equal(k.end, k.hdr.pref_address + k.hdr.init_size);
	/* The 64-bit entry is startup_64 in the decompressor. */
	assert_memory_equal(cvmm_mem_ptr(mem, k.load_addr, 16),
			    data + (k.hdr.setup_sects + 1) * 512, 16);
	cvmm_mem_destroy(mem);
	free(data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_valid_bzimage, setup, loader_test_teardown),
	    cmocka_unit_test_setup_teardown(test_setup_sects_zero_means_four, setup,
					    loader_test_teardown),
	    cmocka_unit_test_setup_teardown(test_old_protocol_refused, setup, loader_test_teardown),
	    cmocka_unit_test_setup_teardown(test_not_loaded_high_refused, setup,
					    loader_test_teardown),
	    cmocka_unit_test_setup_teardown(test_no_64bit_entry_refused, setup,
					    loader_test_teardown),
	    cmocka_unit_test_setup_teardown(test_setup_beyond_file, setup, loader_test_teardown),
	    cmocka_unit_test_setup_teardown(test_truncated_and_bad_magic, setup,
					    loader_test_teardown),
	    cmocka_unit_test_setup_teardown(test_bad_alignment_refused, setup,
					    loader_test_teardown),
	    cmocka_unit_test_setup_teardown(test_unaligned_pref_falls_back, setup,
					    loader_test_teardown),
	    cmocka_unit_test_setup_teardown(test_non_relocatable_at_1mib, setup,
					    loader_test_teardown),
	    cmocka_unit_test_setup_teardown(test_does_not_fit_in_ram, setup, loader_test_teardown),
	    cmocka_unit_test(test_real_debian_kernel),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
