/* SPDX-License-Identifier: Apache-2.0 */
/* The monitor's log (Firecracker's logger): level-filtered lines to a file
 * or FIFO. Without a destination nothing is written. */
#ifndef CVMM_VMM_LOG_H
#define CVMM_VMM_LOG_H

#include "api.h"

/* Open path for appending (a FIFO must have a reader: it is opened
 * non-blocking); NULL logs to stderr. Replaces any earlier destination.
 * Returns 0 or -errno with a message. Main thread. */
int vmm_log_open(const char *path, enum vmm_log_level level, bool show_level, bool show_origin,
		 const char *id);
void vmm_log_close(void);
/* Any thread; lines are written with one write(2), never blocking. */
#define vmm_log(level, ...) vmm_log_at(level, __FILE__, __LINE__, __VA_ARGS__)
void vmm_log_at(enum vmm_log_level level, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
