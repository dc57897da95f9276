/* SPDX-License-Identifier: Apache-2.0 */
/* For the CLI tests: PARSE(&cfg, "--kernel", "k", ...) runs vmm_cli_parse()
 * on "run" and the arguments given. */
#ifndef CVMM_TEST_CLI_PARSE_H
#define CVMM_TEST_CLI_PARSE_H

#include "cli.h"

static inline int parse(struct vmm_config *cfg, const char *const *args, int n)
{
	char *argv[32];

	for (int i = 0; i < n; i++)
		argv[i] = (char *)args[i];
	argv[n] = NULL;
	return vmm_cli_parse(n, argv, cfg);
}

#define PARSE(cfg, ...)                                                                            \
	parse(cfg, (const char *const[]){"run", __VA_ARGS__},                                      \
	      (int)(sizeof((const char *const[]){"run", __VA_ARGS__}) / sizeof(char *)))

#endif
