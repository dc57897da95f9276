// SPDX-License-Identifier: Apache-2.0
/* `cvmm [--api-sock PATH] ...`: Firecracker's command line. */
#include "api.h"
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#ifndef CVMM_VERSION
#define CVMM_VERSION "0.0.0"
#endif

void vmm_api_cli_usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: cvmm [--api-sock PATH] [--id ID] [--config-file FILE] [--no-api]\n"
	    "            [--boot-timer] [--log-path PATH] [--level LEVEL] [--show-level]\n"
	    "            [--show-log-origin] [--metrics-path PATH]\n"
	    "            [--http-api-max-payload-size BYTES] | --version | --help\n"
	    "       cvmm run ... (see 'cvmm run --help')\n"
	    "  --api-sock PATH    API socket (default " VMM_API_DEFAULT_SOCK ")\n"
	    "  --id ID            instance id shown by GET / (default " VMM_API_DEFAULT_ID ")\n"
	    "  --config-file FILE Firecracker JSON configuration: the VM starts at once\n"
	    "  --no-api           no API socket (needs --config-file)\n"
	    "  --boot-timer       print the time from start to the guest's boot-timer write\n"
	    "  --log-path PATH    log file or FIFO; --level Error|Warning|Info|Debug|Trace|Off\n"
	    "  --metrics-path P   metrics file or FIFO (one JSON object per line)\n"
	    "Flags of Firecracker's seccomp filter (--no-seccomp, --seccomp-filter) are\n"
	    "accepted and ignored: cvmm installs no filter yet.\n");
}

static int cli_fail(const char *fmt, const char *a, const char *b)
{
	fputs("cvmm: ", stderr);
	fprintf(stderr, fmt, a, b);
	fputc('\n', stderr);
	return -EINVAL;
}

int vmm_api_cli_parse(int argc, char **argv, struct vmm_api_args *args)
{
	enum {
		O_API_SOCK = 256,
		O_ID,
		O_CONFIG_FILE,
		O_NO_API,
		O_BOOT_TIMER,
		O_LOG_PATH,
		O_LEVEL,
		O_SHOW_LEVEL,
		O_SHOW_ORIGIN,
		O_METRICS_PATH,
		O_MAX_PAYLOAD,
		O_NO_SECCOMP,
		O_SECCOMP_FILTER,
		O_VERSION,
		O_HELP,
		O_UNSUPPORTED,
		O_UNSUPPORTED_ARG,
	};
	/* Firecracker flags cvmm does not implement: refused by name. */
	static const struct option opts[] = {
	    {"api-sock", required_argument, NULL, O_API_SOCK},
	    {"id", required_argument, NULL, O_ID},
	    {"config-file", required_argument, NULL, O_CONFIG_FILE},
	    {"no-api", no_argument, NULL, O_NO_API},
	    {"boot-timer", no_argument, NULL, O_BOOT_TIMER},
	    {"log-path", required_argument, NULL, O_LOG_PATH},
	    {"level", required_argument, NULL, O_LEVEL},
	    {"show-level", no_argument, NULL, O_SHOW_LEVEL},
	    {"show-log-origin", no_argument, NULL, O_SHOW_ORIGIN},
	    {"metrics-path", required_argument, NULL, O_METRICS_PATH},
	    {"http-api-max-payload-size", required_argument, NULL, O_MAX_PAYLOAD},
	    {"no-seccomp", no_argument, NULL, O_NO_SECCOMP},
	    {"seccomp-filter", required_argument, NULL, O_SECCOMP_FILTER},
	    {"version", no_argument, NULL, O_VERSION},
	    {"help", no_argument, NULL, O_HELP},
	    {"metadata", required_argument, NULL, O_UNSUPPORTED_ARG},
	    {"mmds-size-limit", required_argument, NULL, O_UNSUPPORTED_ARG},
	    {"module", required_argument, NULL, O_UNSUPPORTED_ARG},
	    {"start-time-us", required_argument, NULL, O_UNSUPPORTED_ARG},
	    {"start-time-cpu-us", required_argument, NULL, O_UNSUPPORTED_ARG},
	    {"parent-cpu-time-us", required_argument, NULL, O_UNSUPPORTED_ARG},
	    {"describe-snapshot", required_argument, NULL, O_UNSUPPORTED_ARG},
	    {"snapshot-version", no_argument, NULL, O_UNSUPPORTED},
	    {"enable-pci", no_argument, NULL, O_UNSUPPORTED},
	    {0},
	};
	int c, idx;

	*args = (struct vmm_api_args){.api_sock = VMM_API_DEFAULT_SOCK,
				      .id = VMM_API_DEFAULT_ID,
				      .level = VMM_LOG_INFO,
				      .max_payload = VMM_API_DEFAULT_MAX_PAYLOAD};
	opterr = 0;
	optind = 1;
	while ((idx = -1, c = getopt_long(argc, argv, "", opts, &idx)) != -1) {
		char *end;
		unsigned long long v;

		switch (c) {
		case O_API_SOCK:
			if (!optarg[0])
				return cli_fail("%s: empty path%s", "--api-sock", "");
			args->api_sock = optarg;
			break;
		case O_ID:
			args->id = optarg;
			if (strlen(optarg) == 0 || strlen(optarg) > VMM_API_MAX_ID)
				return cli_fail("%s: '%s' is not 1 to 64 characters", "--id",
						optarg);
			break;
		case O_CONFIG_FILE:
			args->config_file = optarg;
			break;
		case O_NO_API:
			args->no_api = true;
			break;
		case O_BOOT_TIMER:
			args->boot_timer = true;
			break;
		case O_LOG_PATH:
			args->log_path = optarg;
			break;
		case O_LEVEL:
			if (vmm_api_parse_level(optarg, &args->level) < 0)
				return cli_fail("%s: '%s' is not Error, Warning, Info, Debug, "
						"Trace or Off",
						"--level", optarg);
			args->level_set = true;
			break;
		case O_SHOW_LEVEL:
			args->show_level = true;
			break;
		case O_SHOW_ORIGIN:
			args->show_log_origin = true;
			break;
		case O_METRICS_PATH:
			args->metrics_path = optarg;
			break;
		case O_MAX_PAYLOAD:
			errno = 0;
			v = strtoull(optarg, &end, 10);
			if (optarg[0] < '0' || optarg[0] > '9' || *end || errno || v < 64 ||
			    v > (64ULL << 20))
				return cli_fail("%s: '%s' is not a size from 64 bytes to 64 MiB",
						"--http-api-max-payload-size", optarg);
			args->max_payload = (size_t)v;
			break;
		case O_NO_SECCOMP:
		case O_SECCOMP_FILTER:
			fprintf(stderr,
				"cvmm: warning: --%s ignored: cvmm installs no seccomp "
				"filter yet\n",
				opts[idx].name);
			break;
		case O_VERSION:
			printf("cvmm v%s\n", CVMM_VERSION);
			return 1;
		case O_HELP:
			vmm_api_cli_usage(stdout);
			return 1;
		case O_UNSUPPORTED:
		case O_UNSUPPORTED_ARG:
			return cli_fail("--%s: Firecracker's flag is not supported by cvmm%s",
					opts[idx].name, "");
		default:
			if (optopt >= O_API_SOCK) {
				for (idx = 0; opts[idx].name && opts[idx].val != optopt; idx++)
					;
				return cli_fail("--%s: missing value%s", opts[idx].name, "");
			}
			return cli_fail("%s: unknown option (try 'cvmm --help')%s",
					argv[optind - 1], "");
		}
	}
	if (optind < argc)
		return cli_fail("%s: unexpected argument (try 'cvmm --help')%s", argv[optind], "");
	if (args->no_api && !args->config_file)
		return cli_fail("%s: needs --config-file (nothing could start the VM)%s",
				"--no-api", "");
	return 0;
}
