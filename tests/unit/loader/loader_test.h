/* SPDX-License-Identifier: Apache-2.0 */
/* Fixtures shared by the loader tests. */
#ifndef CVMM_TEST_LOADER_H
#define CVMM_TEST_LOADER_H

/* cmocka.h needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <cvmm/memory.h>
#include <cvmm/sys.h>
#include <string.h>

/* Guest RAM of ram bytes as the test state. */
static inline int loader_test_mem(void **state, uint64_t ram)
{
	struct cvmm_mem *mem;

	if (cvmm_mem_create(&mem, ram, NULL) < 0)
		return -1;
	*state = mem;
	return 0;
}

static inline int loader_test_teardown(void **state)
{
	cvmm_mem_destroy(*state);
	return 0;
}

/* The last error message names what was wrong. */
static inline void assert_msg(const char *needle)
{
	if (!strstr(cvmm_err_msg(), needle))
		fail_msg("message \"%s\" lacks \"%s\"", cvmm_err_msg(), needle);
}

#endif
