// SPDX-License-Identifier: Apache-2.0
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <cvmm/memory.h>
#include <cvmm/sys.h>
#include <errno.h>
#include <string.h>

static void test_small_ram_is_one_region(void **state)
{
	struct cvmm_mem_region_info r;
	struct cvmm_mem *mem;

	(void)state;
	assert_int_equal(cvmm_mem_create(&mem, 16 << 20, NULL), 0);
	assert_int_equal(cvmm_mem_nr_regions(mem), 1);
	assert_int_equal(cvmm_mem_region_get(mem, 0, &r), 0);
	assert_int_equal(r.gpa, 0);
	assert_int_equal(r.size, 16 << 20);
	assert_ptr_equal(r.host, cvmm_mem_ptr(mem, 0, 1));
	assert_int_equal(r.fd, -1);
	assert_int_equal(cvmm_mem_region_get(mem, 1, &r), -EINVAL);
	assert_non_null(strstr(cvmm_err_msg(), "no region 1"));
	assert_int_equal(cvmm_mem_end(mem), 16 << 20);
	cvmm_mem_destroy(mem);
}

static void test_large_ram_skips_hole(void **state)
{
	struct cvmm_mem_region_info r;
	struct cvmm_mem *mem;

	(void)state;
	assert_int_equal(cvmm_mem_create(&mem, 4ULL << 30, NULL), 0);
	assert_int_equal(cvmm_mem_nr_regions(mem), 2);
	assert_int_equal(cvmm_mem_region_get(mem, 0, &r), 0);
	assert_int_equal(r.size, CVMM_MEM_HOLE_START);
	assert_int_equal(cvmm_mem_region_get(mem, 1, &r), 0);
	assert_int_equal(r.gpa, CVMM_MEM_HOLE_END);
	assert_int_equal(r.size, (4ULL << 30) - CVMM_MEM_HOLE_START);
	assert_ptr_equal(r.host, cvmm_mem_ptr(mem, CVMM_MEM_HOLE_END, 1));
	assert_true(cvmm_mem_valid(mem, CVMM_MEM_HOLE_START - 8, 8));
	assert_false(cvmm_mem_valid(mem, CVMM_MEM_HOLE_START - 4, 8));
	assert_false(cvmm_mem_valid(mem, CVMM_MEM_HOLE_START, 1));
	assert_true(cvmm_mem_valid(mem, CVMM_MEM_HOLE_END, 1));
	assert_int_equal(cvmm_mem_end(mem), CVMM_MEM_HOLE_END + (1ULL << 30));
	cvmm_mem_destroy(mem);
}

static void test_accessors_bounds_and_overflow(void **state)
{
	struct cvmm_mem *mem;
	uint32_t v = 0xdeadbeef, r = 0;

	(void)state;
	assert_int_equal(cvmm_mem_create(&mem, 1 << 20, NULL), 0);
	cvmm_err_clear();
	assert_int_equal(CVMM_MEM_PUT(mem, 0x1000, &v), 0);
	assert_int_equal(CVMM_MEM_GET(mem, 0x1000, &r), 0);
	assert_int_equal(r, 0xdeadbeef);
	assert_int_equal(cvmm_mem_read(mem, (1 << 20) - 2, &r, 4), -EFAULT);
	assert_int_equal(cvmm_mem_write(mem, UINT64_MAX - 1, &v, 4), -EFAULT);
	assert_null(cvmm_mem_ptr(mem, 0x10, UINT64_MAX));
	assert_null(cvmm_mem_ptr(mem, 1 << 20, 0));
	assert_int_equal(cvmm_mem_fill(mem, 0, 0xaa, 1 << 20), 0);
	assert_int_equal(cvmm_mem_fill(mem, 1, 0xaa, 1 << 20), -EFAULT);
	/* Misses are expected outcomes: they record no message. */
	assert_string_equal(cvmm_err_msg(), "");
	cvmm_mem_destroy(mem);
}

static void test_bad_sizes_refused(void **state)
{
	struct cvmm_mem *mem;

	(void)state;
	assert_int_equal(cvmm_mem_create(&mem, 0, NULL), -EINVAL);
	assert_int_equal(cvmm_mem_create(&mem, 4097, NULL), -EINVAL);
	assert_int_equal(cvmm_mem_create(&mem, 1ULL << 50, NULL), -EINVAL);
}

static void test_memfd_backing(void **state)
{
	struct cvmm_mem_opts o = {.backing = CVMM_MEM_MEMFD};
	struct cvmm_mem_region_info r;
	struct cvmm_mem *mem;

	(void)state;
	assert_int_equal(cvmm_mem_create(&mem, 2 << 20, &o), 0);
	assert_int_equal(cvmm_mem_region_get(mem, 0, &r), 0);
	assert_true(r.fd >= 0);
	assert_int_equal(r.fd_offset, 0);
	cvmm_mem_destroy(mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_small_ram_is_one_region),
	    cmocka_unit_test(test_large_ram_skips_hole),
	    cmocka_unit_test(test_accessors_bounds_and_overflow),
	    cmocka_unit_test(test_bad_sizes_refused),
	    cmocka_unit_test(test_memfd_backing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
