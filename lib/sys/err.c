// SPDX-License-Identifier: Apache-2.0
#include <cvmm/sys.h>
#include <stdarg.h>
#include <stdio.h>

static _Thread_local char err_msg[256];

int cvmm_err(int errnum, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err_msg, sizeof(err_msg), fmt, ap);
	va_end(ap);
	return errnum > 0 ? -errnum : errnum;
}

const char *cvmm_err_msg(void)
{
	return err_msg;
}

void cvmm_err_clear(void)
{
	err_msg[0] = '\0';
}
