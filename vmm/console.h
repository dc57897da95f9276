/* SPDX-License-Identifier: Apache-2.0 */
/* Host terminal for the serial console: raw mode while the guest runs. */
#ifndef CVMM_VMM_CONSOLE_H
#define CVMM_VMM_CONSOLE_H

/* Put stdin in raw mode if it is a terminal; the old mode is restored by
 * vmm_console_restore(), which is also registered with atexit(). */
void vmm_console_raw(void);
/* Idempotent; async-signal-safe. */
void vmm_console_restore(void);

#endif
