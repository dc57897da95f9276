// SPDX-License-Identifier: Apache-2.0
/*
 * Disassemble the generated tables with ACPICA's iasl, and compile the
 * disassembly back, failing on any error or warning iasl reports. argv[1] is the iasl
 * binary; without it the test exits 77 (meson: skipped).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <cvmm/acpi.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define RAM (2 << 20)
#define RSDP 0xE0000
#define BASE 0xE1000
#define MAX 0x1F000

static const char *iasl;

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return buf;
}

/* True if iasl's output mentions word ("error", "warning", any case) other
 * than in a zero count: "Error 6084 - ...", "Firmware Warning (ACPI):
 * Incorrect checksum", "1 Errors" and "compiler error(s)" all count, "0 Errors"
 * does not. iasl -d exits 0 even on bad checksums or names, hence warnings. */
static bool reports(const char *out, const char *word)
{
	for (const char *p = out; (p = strcasestr(p, word)); p++) {
		const char *q = p;

		while (q > out && q[-1] == ' ')
			q--;
		if (q == p || q == out || q[-1] < '0' || q[-1] > '9')
			return true;
		while (q > out && q[-1] >= '0' && q[-1] <= '9')
			q--;
		if (atoi(q) > 0)
			return true;
	}
	return false;
}

/* Run iasl with args in dir; fail the test if it exits non-zero or reports
 * an error or a warning. */
static void run_iasl(const char *dir, const char *args)
{
	char cmd[1024], out[16384];
	size_t n = 0;
	FILE *p;
	int st;

	snprintf(cmd, sizeof(cmd), "cd '%s' && '%s' %s 2>&1", dir, iasl, args);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (n < sizeof(out) - 1) {
		size_t got = fread(out + n, 1, sizeof(out) - 1 - n, p);

		if (!got)
			break;
		n += got;
	}
	out[n] = 0;
	st = pclose(p);
	if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0 || reports(out, "error") ||
	    reports(out, "warning"))
		fail_msg("iasl %s failed (status %#x):\n%s", args, st, out);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Write the table at gpa to dir/name.dat, disassemble it and compile the
 * disassembly again. Returns the disassembly (free it). */
static char *check_table(struct cvmm_mem *mem, const char *dir, uint64_t gpa, const char *name)
{
	const uint8_t *t = cvmm_mem_ptr(mem, gpa, 36);
	char path[512], args[128];
	FILE *f;

	assert_non_null(t);
	snprintf(path, sizeof(path), "%s/%s.dat", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(t, 1, rd32(t + 4), f), rd32(t + 4));
	assert_int_equal(fclose(f), 0);
	snprintf(args, sizeof(args), "-d %s.dat", name);
	run_iasl(dir, args);
	snprintf(args, sizeof(args), "%s.dsl", name);
	run_iasl(dir, args);
	snprintf(path, sizeof(path), "%s/%s.dsl", dir, name);
	return read_file(path);
}

static void check_build(const struct cvmm_acpi_config *cfg, char **dsdt_out)
{
	char dir[] = "/tmp/cvmm-acpi-XXXXXX";
	struct cvmm_acpi_result r;
	struct cvmm_mem *mem;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(cvmm_mem_create(&mem, RAM, NULL), 0);
	assert_int_equal(cvmm_acpi_build(mem, cfg, &r), 0);
	free(check_table(mem, dir, r.xsdt_addr, "xsdt"));
	free(check_table(mem, dir, r.fadt_addr, "facp"));
	free(check_table(mem, dir, r.madt_addr, "apic"));
	*dsdt_out = check_table(mem, dir, r.dsdt_addr, "dsdt");
	cvmm_mem_destroy(mem);
	nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static struct cvmm_acpi_config config(const struct cvmm_acpi_device *devs, size_t n)
{
	return (struct cvmm_acpi_config){
	    .nr_vcpus = 4,
	    .ioapic_addr = CVMM_ACPI_IOAPIC_ADDR,
	    .pcat_compat = true,
	    .sleep_ctl_port = CVMM_ACPI_SLEEP_CTL_PORT,
	    .sleep_sts_port = CVMM_ACPI_SLEEP_STS_PORT,
	    .reset_port = CVMM_ACPI_RESET_PORT,
	    .reset_value = CVMM_ACPI_RESET_VALUE,
	    .devices = devs,
	    .nr_devices = n,
	    .base = BASE,
	    .max_size = MAX,
	    .rsdp_addr = RSDP,
	};
}

static void test_microvm_tables(void **state)
{
	static const struct cvmm_acpi_device devs[] = {
	    {.name = "COM1",
	     .hid = "PNP0501",
	     .io_base = 0x3F8,
	     .io_len = 8,
	     .has_irq = true,
	     .gsi = 4},
	    {.name = "VR00",
	     .hid = "LNRO0005",
	     .mmio_base = 0xD0000000,
	     .mmio_len = 0x200,
	     .has_irq = true,
	     .gsi = 5},
	};
	struct cvmm_acpi_config cfg = config(devs, 2);
	char *dsl;

	(void)state;
	check_build(&cfg, &dsl);
	assert_non_null(strstr(dsl, "EisaId (\"PNP0501\")"));
	assert_non_null(strstr(dsl, "\"LNRO0005\""));
	/* iasl prints \_S5_ as "\_S5" followed by a "// _S5_:" comment. */
	assert_non_null(strstr(dsl, "Name (\\_S5, Package (0x04)"));
	assert_non_null(strstr(dsl, "_S5_"));
	assert_non_null(strstr(dsl, "Device (COM1)"));
	assert_non_null(strstr(dsl, "Device (VR00)"));
	assert_non_null(strstr(dsl, "IO (Decode16,\n"
				    "                    0x03F8,             // Range Minimum\n"
				    "                    0x03F8,             // Range Maximum\n"));
	assert_non_null(strstr(dsl, "Memory32Fixed (ReadWrite,"));
	assert_non_null(strstr(dsl, "0xD0000000,         // Address Base"));
	assert_non_null(strstr(dsl, "0x00000200,         // Address Length"));
	assert_non_null(strstr(dsl, "Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive"));
	free(dsl);
}

/* Enough devices for \_SB_ to need a 3-byte PkgLength. */
static void test_many_devices(void **state)
{
	static struct cvmm_acpi_device devs[100];
	static char names[100][5];
	struct cvmm_acpi_config cfg;
	char *dsl;

	(void)state;
	for (int i = 0; i < 100; i++) {
		snprintf(names[i], sizeof(names[i]), "V%03d", i);
		devs[i] = (struct cvmm_acpi_device){.name = names[i],
						    .hid = "LNRO0005",
						    .uid = (uint32_t)i,
						    .mmio_base = 0xD0000000u + 0x200u * (uint32_t)i,
						    .mmio_len = 0x200,
						    .has_irq = true,
						    .gsi = 5 + (uint32_t)i % 16,
						    .irq_flags = i % 2 ? CVMM_AML_IRQ_LEVEL : 0};
	}
	cfg = config(devs, 100);
	cfg.nr_vcpus = 64;
	check_build(&cfg, &dsl);
	assert_non_null(strstr(dsl, "Device (V099)"));
	assert_non_null(strstr(dsl, "0xD000C600,"));
	assert_non_null(strstr(dsl, "Level, ActiveHigh"));
	free(dsl);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_microvm_tables),
	    cmocka_unit_test(test_many_devices),
	};

	if (argc < 2) {
		fprintf(stderr, "iasl not found: skipping\n");
		return 77;
	}
	iasl = argv[1];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
