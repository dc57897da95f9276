// SPDX-License-Identifier: Apache-2.0
#include "console.h"
#include <signal.h>
#include <stdlib.h>
#include <termios.h>
#include <unistd.h>

static struct termios console_saved;
static volatile sig_atomic_t console_is_raw;

void vmm_console_restore(void)
{
	if (console_is_raw) {
		tcsetattr(STDIN_FILENO, TCSANOW, &console_saved);
		console_is_raw = 0;
	}
}

void vmm_console_raw(void)
{
	struct termios raw;

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &console_saved) < 0)
		return;
	raw = console_saved;
	/* Keep ISIG off too: Ctrl-C belongs to the guest's shell. */
	cfmakeraw(&raw);
	if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0) {
		console_is_raw = 1;
		atexit(vmm_console_restore);
	}
}
