// SPDX-License-Identifier: Apache-2.0
#include "cli.h"
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define CLI_MAX_CPUS 254

void vmm_cli_usage(FILE *out)
{
	fprintf(out,
		"usage: cvmm run --kernel PATH [--initrd PATH] [--cmdline STR] [--cpus N]\n"
		"                [--memory MiB] [--boot-timer] [--no-acpi]\n"
		"  --kernel PATH   bzImage or ELF vmlinux (PVH entry used when present)\n"
		"  --initrd PATH   initial ramdisk\n"
		"  --cmdline STR   kernel command line (default: console=ttyS0 reboot=k panic=1)\n"
		"  --cpus N        number of vCPUs (default 1, at most %d)\n"
		"  --memory MiB    guest RAM in MiB (default 128)\n"
		"  --boot-timer    print the time until the guest writes 123 to port 0x3f0\n"
		"  --no-acpi       no ACPI tables (MP table only); poweroff then only halts\n",
		CLI_MAX_CPUS);
}

static int cli_error(const char *fmt, const char *field, const char *value)
{
	fputs("cvmm: ", stderr);
	fprintf(stderr, fmt, field, value);
	fputc('\n', stderr);
	return -EINVAL;
}

/* Strict decimal: no sign, no trailing garbage, no overflow. */
static int cli_parse_u64(const char *s, uint64_t *out)
{
	char *end;

	if (!s[0] || s[0] < '0' || s[0] > '9')
		return -EINVAL;
	errno = 0;
	*out = strtoull(s, &end, 10);
	if (errno || *end)
		return -EINVAL;
	return 0;
}

int vmm_cli_parse(int argc, char **argv, struct vmm_config *cfg)
{
	enum { OPT_KERNEL = 256, OPT_INITRD, OPT_CMDLINE, OPT_CPUS, OPT_MEMORY,
	       OPT_BOOT_TIMER, OPT_NO_ACPI, OPT_KVM, OPT_HELP };
	static const struct option opts[] = {
	    {"kernel", required_argument, NULL, OPT_KERNEL},
	    {"initrd", required_argument, NULL, OPT_INITRD},
	    {"cmdline", required_argument, NULL, OPT_CMDLINE},
	    {"cpus", required_argument, NULL, OPT_CPUS},
	    {"memory", required_argument, NULL, OPT_MEMORY},
	    {"boot-timer", no_argument, NULL, OPT_BOOT_TIMER},
	    {"no-acpi", no_argument, NULL, OPT_NO_ACPI},
	    {"kvm-device", required_argument, NULL, OPT_KVM},
	    {"help", no_argument, NULL, OPT_HELP},
	    {0},
	};
	uint64_t v;
	int c;

	*cfg = (struct vmm_config){.cpus = 1, .memory_mib = 128, .kvm_path = "/dev/kvm"};
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case OPT_KERNEL:
			cfg->kernel = optarg;
			break;
		case OPT_INITRD:
			cfg->initrd = optarg;
			break;
		case OPT_CMDLINE:
			cfg->cmdline = optarg;
			break;
		case OPT_CPUS:
			if (cli_parse_u64(optarg, &v) || v == 0 || v > CLI_MAX_CPUS)
				return cli_error("%s: '%s' is not a vCPU count between 1 and 254",
						 "--cpus", optarg);
			cfg->cpus = (unsigned int)v;
			break;
		case OPT_MEMORY:
			if (cli_parse_u64(optarg, &v) || v == 0 || v > (1ULL << 26))
				return cli_error("%s: '%s' is not a size in MiB greater than 0",
						 "--memory", optarg);
			cfg->memory_mib = v;
			break;
		case OPT_BOOT_TIMER:
			cfg->boot_timer = true;
			break;
		case OPT_NO_ACPI:
			cfg->no_acpi = true;
			break;
		case OPT_KVM:
			cfg->kvm_path = optarg;
			break;
		case OPT_HELP:
			vmm_cli_usage(stdout);
			return 1;
		default:
			if (optopt)
				return cli_error("%s%s: missing value", "--",
						 optopt >= OPT_KERNEL && optopt < OPT_HELP
						     ? opts[optopt - OPT_KERNEL].name
						     : "?");
			return cli_error("%s: unknown option '%s'", "run", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_error("%s: unexpected argument '%s'", "run", argv[optind]);
	if (!cfg->kernel)
		return cli_error("%s: missing (try 'cvmm run --help')%s", "--kernel", "");
	return 0;
}
