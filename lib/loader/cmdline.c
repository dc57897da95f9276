// SPDX-License-Identifier: Apache-2.0
/* Bounded kernel command-line builder. */
#include "loader-internal.h"
#include <cvmm/sys.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

int cvmm_loader_cmdline_init(struct cvmm_loader_cmdline *cl, size_t capacity)
{
	/* Left freeable even when init fails. */
	*cl = (struct cvmm_loader_cmdline){0};
	if (capacity > CVMM_LOADER_CMDLINE_MAX)
		return cvmm_err(EINVAL, "cmdline: capacity %zu exceeds %d", capacity,
				CVMM_LOADER_CMDLINE_MAX);
	cl->buf = calloc(1, capacity + 1);
	if (!cl->buf)
		return cvmm_err(ENOMEM, "cmdline: out of memory");
	cl->capacity = capacity;
	return 0;
}

void cvmm_loader_cmdline_free(struct cvmm_loader_cmdline *cl)
{
	free(cl->buf);
	cl->buf = NULL;
	cl->len = 0;
	cl->capacity = 0;
}

int cvmm_loader_cmdline_append(struct cvmm_loader_cmdline *cl, const char *token)
{
	size_t n = strlen(token), sep = cl->len ? 1 : 0;

	if (n == 0)
		return 0;
	if (n > cl->capacity - cl->len || sep > cl->capacity - cl->len - n)
		return cvmm_err(
		    E2BIG,
		    "cmdline: adding \"%.32s%s\" (%zu bytes) to %zu bytes exceeds the limit of %zu",
		    token, n > 32 ? "..." : "", n, cl->len, cl->capacity);
	if (sep)
		cl->buf[cl->len++] = ' ';
	memcpy(cl->buf + cl->len, token, n + 1);
	cl->len += n;
	return 0;
}

int cvmm_loader_cmdline_write(const struct cvmm_loader_cmdline *cl, const struct cvmm_mem *mem,
			      uint64_t gpa)
{
	if (cvmm_mem_write(mem, gpa, cl->buf, cl->len + 1) < 0)
		return cvmm_err(EFAULT, "cmdline: [0x%llx, +%zu) is not in guest RAM",
				(unsigned long long)gpa, cl->len + 1);
	return 0;
}
