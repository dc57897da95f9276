// SPDX-License-Identifier: Apache-2.0
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <cvmm/acpi.h>
#include <errno.h>
#include <string.h>

#define RAM (2 << 20)
#define RSDP 0xE0000
#define BASE 0xE1000
#define MAX 0x1F000

static const struct cvmm_acpi_device devices[] = {
    {.name = "COM1", .hid = "PNP0501", .io_base = 0x3F8, .io_len = 8, .has_irq = true, .gsi = 4},
    {.name = "VR00",
     .hid = "LNRO0005",
     .mmio_base = 0xD0000000,
     .mmio_len = 0x200,
     .has_irq = true,
     .gsi = 5},
    {.name = "VR01",
     .hid = "LNRO0005",
     .uid = 1,
     .mmio_base = 0xD0000200,
     .mmio_len = 0x200,
     .has_irq = true,
     .gsi = 6},
};

static struct cvmm_acpi_config config(unsigned int nr_vcpus)
{
	return (struct cvmm_acpi_config){
	    .nr_vcpus = nr_vcpus,
	    .ioapic_id = 0,
	    .ioapic_addr = CVMM_ACPI_IOAPIC_ADDR,
	    .pcat_compat = true,
	    .sleep_ctl_port = CVMM_ACPI_SLEEP_CTL_PORT,
	    .sleep_sts_port = CVMM_ACPI_SLEEP_STS_PORT,
	    .reset_port = CVMM_ACPI_RESET_PORT,
	    .reset_value = CVMM_ACPI_RESET_VALUE,
	    .devices = devices,
	    .nr_devices = sizeof(devices) / sizeof(devices[0]),
	    .base = BASE,
	    .max_size = MAX,
	    .rsdp_addr = RSDP,
	};
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
	return rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static uint8_t sum(const uint8_t *p, size_t len)
{
	uint8_t s = 0;

	while (len--)
		s = (uint8_t)(s + *p++);
	return s;
}

/* Host pointer to a table at gpa, checking its signature and checksum. */
static const uint8_t *table(struct cvmm_mem *mem, uint64_t gpa, const char *sig)
{
	const uint8_t *t = cvmm_mem_ptr(mem, gpa, 36);
	uint32_t len;

	assert_non_null(t);
	assert_memory_equal(t, sig, 4);
	len = rd32(t + 4);
	assert_non_null(cvmm_mem_ptr(mem, gpa, len));
	assert_int_equal(sum(t, len), 0);
	assert_memory_equal(t + 10, "CVMM  ", 6);
	return t;
}

static void build(struct cvmm_mem **mem, const struct cvmm_acpi_config *cfg,
		  struct cvmm_acpi_result *r)
{
	assert_int_equal(cvmm_mem_create(mem, RAM, NULL), 0);
	assert_int_equal(cvmm_acpi_build(*mem, cfg, r), 0);
}

static void test_rsdp_xsdt_and_checksums(void **state)
{
	struct cvmm_acpi_config cfg = config(2);
	struct cvmm_acpi_result r;
	const uint8_t *rsdp, *xsdt;
	struct cvmm_mem *mem;

	(void)state;
	build(&mem, &cfg, &r);
	assert_int_equal(r.rsdp_addr, RSDP);
	assert_true(r.size > 0 && r.size <= MAX);
	rsdp = cvmm_mem_ptr(mem, RSDP, 36);
	assert_memory_equal(rsdp, "RSD PTR ", 8);
	assert_int_equal(sum(rsdp, 20), 0);
	assert_int_equal(sum(rsdp, 36), 0);
	assert_memory_equal(rsdp + 9, "CVMM  ", 6);
	assert_int_equal(rsdp[15], 2);
	assert_int_equal(rd32(rsdp + 20), 36);
	assert_int_equal(rd64(rsdp + 24), r.xsdt_addr);

	xsdt = table(mem, r.xsdt_addr, "XSDT");
	assert_int_equal(rd32(xsdt + 4), 36 + 2 * 8);
	assert_int_equal(xsdt[8], 1);
	assert_int_equal(rd64(xsdt + 36), r.fadt_addr);
	assert_int_equal(rd64(xsdt + 44), r.madt_addr);
	table(mem, r.fadt_addr, "FACP");
	table(mem, r.madt_addr, "APIC");
	table(mem, r.dsdt_addr, "DSDT");
	/* Everything lies inside [base, base + size). */
	assert_true(r.dsdt_addr >= BASE && r.xsdt_addr + 52 == BASE + r.size);
	cvmm_mem_destroy(mem);
}

static void test_fadt(void **state)
{
	struct cvmm_acpi_config cfg = config(1);
	struct cvmm_acpi_result r;
	struct cvmm_mem *mem;
	const uint8_t *f;
	uint32_t flags;

	(void)state;
	cfg.reset_port = 0xCF9;
	cfg.reset_value = 0x06;
	build(&mem, &cfg, &r);
	f = table(mem, r.fadt_addr, "FACP");
	assert_int_equal(rd32(f + 4), 276);
	assert_int_equal(f[8], 6);
	flags = rd32(f + 112);
	assert_true(flags & (1u << 20)); /* HW_REDUCED_ACPI */
	assert_true(flags & (1u << 10)); /* RESET_REG_SUP */
	assert_int_equal(rd64(f + 140), r.dsdt_addr);
	/* No FACS, no legacy PM blocks, no boot arch flags. */
	assert_int_equal(rd32(f + 36), 0);
	assert_int_equal(rd64(f + 132), 0);
	for (int off = 56; off < 88; off += 4)
		assert_int_equal(rd32(f + off), 0);
	assert_int_equal(f[109] | f[110] << 8, 0);
	assert_int_equal(f[129] | f[130] << 8, 0);
	/* RESET_REG, SLEEP_CONTROL_REG, SLEEP_STATUS_REG: 8-bit System I/O. */
	assert_memory_equal(f + 116, ((uint8_t[]){1, 8, 0, 1}), 4);
	assert_int_equal(rd64(f + 120), 0xCF9);
	assert_int_equal(f[128], 0x06);
	assert_memory_equal(f + 244, ((uint8_t[]){1, 8, 0, 1}), 4);
	assert_int_equal(rd64(f + 248), CVMM_ACPI_SLEEP_CTL_PORT);
	assert_memory_equal(f + 256, ((uint8_t[]){1, 8, 0, 1}), 4);
	assert_int_equal(rd64(f + 260), CVMM_ACPI_SLEEP_STS_PORT);
	assert_memory_equal(f + 268, "CVMM", 4);
	assert_int_equal(CVMM_ACPI_S5_CTL_VALUE, 0x34);
	cvmm_mem_destroy(mem);
	/* With an i8042, IAPC_BOOT_ARCH has the 8042 flag and nothing else. */
	cfg.i8042 = true;
	build(&mem, &cfg, &r);
	f = table(mem, r.fadt_addr, "FACP");
	assert_int_equal(f[109] | f[110] << 8, 2);
	cvmm_mem_destroy(mem);
}

static void check_madt(unsigned int n, bool pcat)
{
	struct cvmm_acpi_config cfg = config(n);
	unsigned int lapics = 0, ioapics = 0, isos = 0, nmis = 0;
	struct cvmm_acpi_result r;
	struct cvmm_mem *mem;
	const uint8_t *m;
	uint32_t len;

	cfg.pcat_compat = pcat;
	cfg.ioapic_id = 3;
	build(&mem, &cfg, &r);
	m = table(mem, r.madt_addr, "APIC");
	len = rd32(m + 4);
	assert_int_equal(rd32(m + 36), 0xFEE00000);
	assert_int_equal(rd32(m + 40), pcat ? 1 : 0);
	for (uint32_t off = 44; off < len; off += m[off + 1]) {
		const uint8_t *e = m + off;

		assert_true(e[1] >= 2 && off + e[1] <= len);
		switch (e[0]) {
		case 0:
			assert_int_equal(e[1], 8);
			assert_int_equal(e[2], lapics);
			assert_int_equal(e[3], lapics);
			assert_int_equal(rd32(e + 4), 1);
			lapics++;
			break;
		case 1:
			assert_int_equal(e[1], 12);
			assert_int_equal(e[2], 3);
			assert_int_equal(rd32(e + 4), 0xFEC00000);
			assert_int_equal(rd32(e + 8), 0);
			ioapics++;
			break;
		case 2:
			assert_int_equal(e[1], 10);
			assert_int_equal(e[2], 0);
			assert_int_equal(e[3], 0);
			assert_int_equal(rd32(e + 4), 2);
			assert_int_equal(e[8] | e[9] << 8, 0x0005);
			isos++;
			break;
		case 4:
			assert_int_equal(e[1], 6);
			assert_int_equal(e[2], 0xFF);
			assert_int_equal(e[5], 1);
			nmis++;
			break;
		default:
			fail_msg("unexpected MADT entry type %u", e[0]);
		}
	}
	assert_int_equal(lapics, n);
	assert_int_equal(ioapics, 1);
	assert_int_equal(isos, 1);
	assert_int_equal(nmis, 1);
	cvmm_mem_destroy(mem);
}

static void test_madt_vcpu_counts(void **state)
{
	(void)state;
	check_madt(1, true);
	check_madt(4, false);
	check_madt(64, true);
	check_madt(CVMM_ACPI_MAX_VCPUS, true);
}

static void test_dsdt_contents(void **state)
{
	struct cvmm_acpi_config cfg = config(1);
	struct cvmm_acpi_result r;
	struct cvmm_mem *mem;
	const uint8_t *d;
	uint32_t len;

	(void)state;
	build(&mem, &cfg, &r);
	d = table(mem, r.dsdt_addr, "DSDT");
	len = rd32(d + 4);
	assert_int_equal(d[8], 2);
	assert_non_null(memmem(d, len, "_S5_\x12", 5));
	assert_non_null(memmem(d, len, "\x0C\x41\xD0\x05\x01", 5)); /* EisaId("PNP0501") */
	assert_non_null(memmem(d, len, "\x0DLNRO0005", 10));
	assert_non_null(memmem(d, len, "VR01", 4));
	cvmm_mem_destroy(mem);
}

/* The i8042 keyboard as Linux's driver wants it: data port, then command port. */
static void test_dsdt_two_io_ranges(void **state)
{
	static const struct cvmm_acpi_device kbd = {.name = "KBD0",
						    .hid = "PNP0303",
						    .io_base = 0x60,
						    .io_len = 1,
						    .io2_base = 0x64,
						    .io2_len = 1,
						    .has_irq = true,
						    .gsi = 1};
	struct cvmm_acpi_config cfg = config(1);
	struct cvmm_acpi_result r;
	struct cvmm_mem *mem;
	const uint8_t *d;
	struct cvmm_acpi_device bad = kbd;

	(void)state;
	cfg.devices = &kbd;
	cfg.nr_devices = 1;
	build(&mem, &cfg, &r);
	d = table(mem, r.dsdt_addr, "DSDT");
	/* IO(Decode16, 0x60, 0x60, 1, 1), IO(Decode16, 0x64, 0x64, 1, 1) */
	assert_non_null(memmem(d, rd32(d + 4),
			       "\x47\x01\x60\x00\x60\x00\x01\x01\x47\x01\x64\x00\x64\x00\x01\x01",
			       16));
	bad.io2_base = 0xFFFF;
	bad.io2_len = 2;
	cfg.devices = &bad;
	assert_int_equal(cvmm_acpi_build(mem, &cfg, &r), -EINVAL);
	cvmm_mem_destroy(mem);
}

static void test_too_small_is_e2big(void **state)
{
	struct cvmm_acpi_config cfg = config(4);
	struct cvmm_acpi_result r;
	struct cvmm_mem *mem;
	const uint8_t *p;

	(void)state;
	build(&mem, &cfg, &r);
	cvmm_mem_fill(mem, 0, 0, RAM);
	cfg.max_size = r.size - 1;
	assert_int_equal(cvmm_acpi_build(mem, &cfg, &r), -E2BIG);
	cfg.max_size = 0;
	assert_int_equal(cvmm_acpi_build(mem, &cfg, &r), -E2BIG);
	/* Nothing was written. */
	p = cvmm_mem_ptr(mem, 0, RAM);
	for (size_t i = 0; i < RAM; i++)
		if (p[i])
			fail_msg("byte %#zx written", i);
	cvmm_mem_destroy(mem);
}

static void expect_einval(struct cvmm_mem *mem, struct cvmm_acpi_config cfg)
{
	assert_int_equal(cvmm_acpi_build(mem, &cfg, NULL), -EINVAL);
}

static void test_bad_configs(void **state)
{
	struct cvmm_acpi_config cfg = config(1);
	struct cvmm_acpi_device dev[2];
	struct cvmm_mem *mem;

	(void)state;
	assert_int_equal(cvmm_mem_create(&mem, RAM, NULL), 0);
	cfg.nr_vcpus = 0;
	expect_einval(mem, cfg);
	cfg.nr_vcpus = 256;
	expect_einval(mem, cfg);
	cfg = config(1);
	cfg.sleep_ctl_port = 0;
	expect_einval(mem, cfg);
	cfg = config(1);
	cfg.reset_port = 0;
	expect_einval(mem, cfg);
	cfg = config(1);
	cfg.ioapic_addr = 0;
	expect_einval(mem, cfg);
	cfg = config(1);
	cfg.rsdp_addr = RSDP + 8;
	expect_einval(mem, cfg);
	cfg.rsdp_addr = BASE + 16;
	expect_einval(mem, cfg);
	cfg = config(1);
	cfg.base = UINT64_MAX - 8;
	expect_einval(mem, cfg);
	cfg = config(1);
	cfg.devices = NULL;
	expect_einval(mem, cfg);

	cfg = config(1);
	cfg.devices = dev;
	cfg.nr_devices = 1;
	dev[0] = devices[0];
	dev[0].name = "com1";
	expect_einval(mem, cfg);
	dev[0].name = "COM12";
	expect_einval(mem, cfg);
	dev[0].name = NULL;
	expect_einval(mem, cfg);
	dev[0] = devices[0];
	dev[0].hid = "pnp0501";
	expect_einval(mem, cfg);
	dev[0].hid = NULL;
	expect_einval(mem, cfg);
	dev[0] = devices[0];
	dev[0].io_base = 0xFFFC;
	expect_einval(mem, cfg);
	dev[0].io_base = 0;
	dev[0].io_len = 256;
	expect_einval(mem, cfg);
	dev[0] = devices[1];
	dev[0].mmio_base = 0xFFFFFF00;
	expect_einval(mem, cfg);
	dev[0] = devices[0];
	dev[0].gsi = CVMM_ACPI_IOAPIC_PINS;
	expect_einval(mem, cfg);
	dev[0] = devices[0];
	dev[0].irq_flags = 0x10;
	expect_einval(mem, cfg);
	/* "COM" and "COM_" are the same NameSeg. */
	dev[0] = devices[0];
	dev[0].name = "COM";
	dev[1] = devices[1];
	dev[1].name = "COM_";
	cfg.nr_devices = 2;
	expect_einval(mem, cfg);
	cvmm_mem_destroy(mem);
}

static void test_not_ram_is_efault(void **state)
{
	struct cvmm_acpi_config cfg = config(1);
	struct cvmm_mem *mem;

	(void)state;
	assert_int_equal(cvmm_mem_create(&mem, RAM, NULL), 0);
	cfg.base = RAM - 0x100;
	assert_int_equal(cvmm_acpi_build(mem, &cfg, NULL), -EFAULT);
	cfg = config(1);
	cfg.rsdp_addr = RAM;
	assert_int_equal(cvmm_acpi_build(mem, &cfg, NULL), -EFAULT);
	cvmm_mem_destroy(mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rsdp_xsdt_and_checksums),
	    cmocka_unit_test(test_fadt),
	    cmocka_unit_test(test_madt_vcpu_counts),
	    cmocka_unit_test(test_dsdt_contents),
	    cmocka_unit_test(test_dsdt_two_io_ranges),
	    cmocka_unit_test(test_too_small_is_e2big),
	    cmocka_unit_test(test_bad_configs),
	    cmocka_unit_test(test_not_ram_is_efault),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
