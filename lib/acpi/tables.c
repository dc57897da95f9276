// SPDX-License-Identifier: Apache-2.0
#include "internal.h"
#include <cvmm/sys.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define OEM_ID "CVMM  "
#define CREATOR_ID "CVMM"
#define SDT_HDR 36
#define RSDP_SIZE 36
#define FADT_SIZE 276
#define XSDT_ENTRIES 2 /* FADT, MADT; the DSDT hangs off the FADT */
#define MADT_LAPIC 8
#define MADT_IOAPIC 12
#define MADT_ISO 10
#define MADT_LAPIC_NMI 6

/* FADT (ACPI 6.5, table 5.9) field offsets. */
#define FADT_BOOT_ARCH 109
#define FADT_FLAGS 112
#define FADT_RESET_REG 116
#define FADT_RESET_VALUE 128
#define FADT_MINOR 131
#define FADT_X_DSDT 140
#define FADT_SLEEP_CTL 244
#define FADT_SLEEP_STS 256
#define FADT_HYPERVISOR 268

#define FADT_BOOT_ARCH_8042 (1u << 1)
#define FADT_WBINVD (1u << 0)
#define FADT_PWR_BUTTON (1u << 4) /* no fixed-feature power button */
#define FADT_SLP_BUTTON (1u << 5) /* no fixed-feature sleep button */
#define FADT_RESET_REG_SUP (1u << 10)
#define FADT_HW_REDUCED (1u << 20)

#define GAS_SYSTEM_IO 1
#define GAS_ACCESS_BYTE 1

/* MPS INTI flags: active high (bits 1-0 = 01), edge (bits 3-2 = 01). */
#define MPS_EDGE_HIGH 0x0005

static uint8_t checksum(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + p[i]);
	return (uint8_t)-sum;
}

static void sdt_header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(t, sig, 4);
	le32(t + 4, len);
	t[8] = rev;
	memcpy(t + 10, OEM_ID, 6);
	memcpy(t + 16, "CVMM", 4);
	memcpy(t + 20, sig, 4); /* OEM table id: "CVMM" + signature */
	le32(t + 24, 1);	/* OEM revision */
	memcpy(t + 28, CREATOR_ID, 4);
	le32(t + 32, 1); /* creator revision */
}

/* Checksum byte last, once everything else in the table is final. */
static void sdt_seal(uint8_t *t, uint32_t len)
{
	t[9] = 0;
	t[9] = checksum(t, len);
}

/* 8-bit System I/O Generic Address Structure. */
static void gas_io8(uint8_t *g, uint16_t port)
{
	g[0] = GAS_SYSTEM_IO;
	g[1] = 8; /* bit width */
	g[2] = 0; /* bit offset */
	g[3] = GAS_ACCESS_BYTE;
	le64(g + 4, port);
}

static void fadt_fill(uint8_t *t, const struct cvmm_acpi_config *cfg, uint64_t dsdt)
{
	sdt_header(t, "FACP", FADT_SIZE, 6);
	/* Hardware-reduced: no SCI, SMI, PM1/PM2/PM timer/GPE blocks, FACS;
	 * IAPC_BOOT_ARCH says only whether there is an i8042, ARM_BOOT_ARCH
	 * stays 0. Only X_DSDT is set, so the 32-bit DSDT field stays 0 and
	 * there is nothing to mismatch. */
	if (cfg->i8042)
		le16(t + FADT_BOOT_ARCH, FADT_BOOT_ARCH_8042);
	le32(t + FADT_FLAGS, FADT_WBINVD | FADT_PWR_BUTTON | FADT_SLP_BUTTON | FADT_RESET_REG_SUP |
				 FADT_HW_REDUCED);
	gas_io8(t + FADT_RESET_REG, cfg->reset_port);
	t[FADT_RESET_VALUE] = cfg->reset_value;
	t[FADT_MINOR] = 5; /* ACPI 6.5 */
	le64(t + FADT_X_DSDT, dsdt);
	gas_io8(t + FADT_SLEEP_CTL, cfg->sleep_ctl_port);
	gas_io8(t + FADT_SLEEP_STS, cfg->sleep_sts_port);
	memcpy(t + FADT_HYPERVISOR, "CVMM", 4);
	sdt_seal(t, FADT_SIZE);
}

static uint32_t madt_size(const struct cvmm_acpi_config *cfg)
{
	return SDT_HDR + 8 + cfg->nr_vcpus * MADT_LAPIC + MADT_IOAPIC + MADT_ISO + MADT_LAPIC_NMI;
}

static void madt_fill(uint8_t *t, const struct cvmm_acpi_config *cfg)
{
	uint32_t len = madt_size(cfg);
	uint8_t *e = t + SDT_HDR + 8;

	sdt_header(t, "APIC", len, 5);
	le32(t + SDT_HDR, CVMM_ACPI_LAPIC_ADDR);
	le32(t + SDT_HDR + 4, cfg->pcat_compat ? 1 : 0);
	for (unsigned int i = 0; i < cfg->nr_vcpus; i++, e += MADT_LAPIC) {
		/* Processor Local APIC: UID, APIC id, flags (bit 0: enabled). */
		e[0] = 0;
		e[1] = MADT_LAPIC;
		e[2] = (uint8_t)i;
		e[3] = (uint8_t)i;
		le32(e + 4, 1);
	}
	/* I/O APIC: id, reserved, address, GSI base. */
	e[0] = 1;
	e[1] = MADT_IOAPIC;
	e[2] = cfg->ioapic_id;
	e[3] = 0;
	le32(e + 4, cfg->ioapic_addr);
	le32(e + 8, 0);
	e += MADT_IOAPIC;
	/* Interrupt Source Override: ISA IRQ 0 (PIT) is wired to GSI 2. */
	e[0] = 2;
	e[1] = MADT_ISO;
	e[2] = 0; /* bus: ISA */
	e[3] = 0; /* source IRQ */
	le32(e + 4, 2);
	le16(e + 8, MPS_EDGE_HIGH);
	e += MADT_ISO;
	/* Local APIC NMI: all processors (UID 0xFF), LINT1. */
	e[0] = 4;
	e[1] = MADT_LAPIC_NMI;
	e[2] = 0xFF;
	le16(e + 3, MPS_EDGE_HIGH);
	e[5] = 1;
	sdt_seal(t, len);
}

static int config_check(const struct cvmm_mem *mem, const struct cvmm_acpi_config *cfg)
{
	if (!mem || !cfg)
		return cvmm_err(EINVAL, "ACPI: NULL memory or config");
	if (cfg->nr_vcpus < 1 || cfg->nr_vcpus > CVMM_ACPI_MAX_VCPUS)
		return cvmm_err(EINVAL, "ACPI: %u vCPUs, must be 1-%u", cfg->nr_vcpus,
				CVMM_ACPI_MAX_VCPUS);
	if (!cfg->sleep_ctl_port || !cfg->sleep_sts_port || !cfg->reset_port)
		return cvmm_err(EINVAL, "ACPI: sleep and reset ports must be non-zero");
	if (cfg->rsdp_addr % 16)
		return cvmm_err(EINVAL, "ACPI: RSDP address %#llx is not 16-byte aligned",
				(unsigned long long)cfg->rsdp_addr);
	if (!cfg->ioapic_addr)
		return cvmm_err(EINVAL, "ACPI: IOAPIC address must be non-zero");
	if (cfg->base + cfg->max_size < cfg->base)
		return cvmm_err(EINVAL, "ACPI: table region wraps around");
	if (!cvmm_mem_valid(mem, cfg->rsdp_addr, RSDP_SIZE))
		return cvmm_err(EFAULT, "ACPI: RSDP at %#llx is not guest RAM",
				(unsigned long long)cfg->rsdp_addr);
	/* No wrap: the RSDP is RAM, and RAM ends far below 2^64. */
	if (cfg->rsdp_addr + RSDP_SIZE > cfg->base && cfg->rsdp_addr < cfg->base + cfg->max_size)
		return cvmm_err(EINVAL, "ACPI: RSDP overlaps the table region");
	return 0;
}

static uint64_t align8(uint64_t v)
{
	return (v + 7) & ~7ULL;
}

int cvmm_acpi_build(const struct cvmm_mem *mem, const struct cvmm_acpi_config *cfg,
		    struct cvmm_acpi_result *out)
{
	struct cvmm_acpi_result r = {.rsdp_addr = 0};
	uint8_t rsdp[RSDP_SIZE] = {0};
	uint64_t dsdt_len, fadt, madt, xsdt, xsdt_len = SDT_HDR + 8 * XSDT_ENTRIES;
	struct cvmm_aml aml;
	uint8_t *buf, *t;
	int ret;

	ret = config_check(mem, cfg);
	if (ret)
		return ret;
	cvmm_aml_init(&aml);
	ret = acpi_dsdt_body(cfg, &aml);
	if (ret) {
		cvmm_aml_free(&aml);
		return ret;
	}
	/* Offsets from base, each 8-byte aligned: DSDT, FADT, MADT, XSDT. Sums
	 * of offsets cannot wrap; base + offset cannot once size <= max_size. */
	dsdt_len = SDT_HDR + aml.len;
	fadt = align8(dsdt_len);
	madt = align8(fadt + FADT_SIZE);
	xsdt = align8(madt + madt_size(cfg));
	r.size = xsdt + xsdt_len;
	if (r.size > cfg->max_size) {
		cvmm_aml_free(&aml);
		return cvmm_err(E2BIG, "ACPI: tables need %llu bytes, only %llu available",
				(unsigned long long)r.size, (unsigned long long)cfg->max_size);
	}
	if (!cvmm_mem_valid(mem, cfg->base, r.size)) {
		cvmm_aml_free(&aml);
		return cvmm_err(EFAULT, "ACPI: tables at %#llx+%llu are not guest RAM",
				(unsigned long long)cfg->base, (unsigned long long)r.size);
	}
	r.rsdp_addr = cfg->rsdp_addr;
	r.dsdt_addr = cfg->base;
	r.fadt_addr = cfg->base + fadt;
	r.madt_addr = cfg->base + madt;
	r.xsdt_addr = cfg->base + xsdt;
	buf = calloc(1, r.size);
	if (!buf) {
		cvmm_aml_free(&aml);
		return cvmm_err(ENOMEM, "out of memory");
	}

	t = buf;
	sdt_header(t, "DSDT", (uint32_t)dsdt_len, 2); /* rev 2: 64-bit integers */
	memcpy(t + SDT_HDR, aml.buf, aml.len);
	sdt_seal(t, (uint32_t)dsdt_len);
	cvmm_aml_free(&aml);

	fadt_fill(buf + fadt, cfg, r.dsdt_addr);
	madt_fill(buf + madt, cfg);

	t = buf + xsdt;
	sdt_header(t, "XSDT", (uint32_t)xsdt_len, 1);
	le64(t + SDT_HDR, r.fadt_addr);
	le64(t + SDT_HDR + 8, r.madt_addr);
	sdt_seal(t, (uint32_t)xsdt_len);

	/* RSDP 2.0: no RSDT (address 0), only the XSDT. */
	memcpy(rsdp, "RSD PTR ", 8);
	memcpy(rsdp + 9, OEM_ID, 6);
	rsdp[15] = 2;
	le32(rsdp + 20, RSDP_SIZE);
	le64(rsdp + 24, r.xsdt_addr);
	rsdp[8] = checksum(rsdp, 20);
	rsdp[32] = checksum(rsdp, RSDP_SIZE);

	/* Both ranges were checked above, so these cannot fail halfway. */
	ret = cvmm_mem_write(mem, cfg->base, buf, r.size);
	if (!ret)
		ret = cvmm_mem_write(mem, cfg->rsdp_addr, rsdp, RSDP_SIZE);
	free(buf);
	if (ret)
		return cvmm_err(-ret, "ACPI: writing tables to guest memory failed");
	if (out)
		*out = r;
	return 0;
}
