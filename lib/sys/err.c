// SPDX-License-Identifier: Apache-2.0
#include <cvmm/sys.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char err_msg[256];

int cvmm_err(int errnum, const char *fmt, ...)
{
	char msg[sizeof(err_msg)];
	va_list ap;

	/* Format aside: callers may wrap the previous message, cvmm_err_msg(). */
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	memcpy(err_msg, msg, sizeof(err_msg));
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
