// SPDX-License-Identifier: Apache-2.0
#include "internal.h"
#include <cvmm/sys.h>
#include <errno.h>
#include <string.h>

/* The 4-character NameSeg for a 1-4 character name, or false if invalid. */
static bool dev_nameseg(const char *name, char seg[4])
{
	size_t n = name ? strnlen(name, 5) : 0;

	if (n == 0 || n > 4)
		return false;
	memset(seg, '_', 4);
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!(c == '_' || (c >= 'A' && c <= 'Z') || (i && c >= '0' && c <= '9')))
			return false;
		seg[i] = c;
	}
	return true;
}

static int dev_check(const struct cvmm_acpi_device *devs, size_t i)
{
	const struct cvmm_acpi_device *d = &devs[i];
	char seg[4], other[4];

	if (!dev_nameseg(d->name, seg))
		return cvmm_err(EINVAL, "ACPI device %zu: name must be 1-4 chars [A-Z_][A-Z0-9_]",
				i);
	for (size_t j = 0; j < i; j++)
		if (dev_nameseg(devs[j].name, other) && !memcmp(seg, other, 4))
			return cvmm_err(EINVAL, "ACPI device %zu: name %.4s used twice", i, seg);
	if (d->io_len > 255 || (d->io_len && d->io_base > 0x10000 - d->io_len))
		return cvmm_err(EINVAL, "ACPI device %.4s: bad I/O range %#x+%u", seg, d->io_base,
				d->io_len);
	if (d->io2_len > 255 || (d->io2_len && d->io2_base > 0x10000 - d->io2_len))
		return cvmm_err(EINVAL, "ACPI device %.4s: bad second I/O range %#x+%u", seg,
				d->io2_base, d->io2_len);
	if (d->mmio_len && (uint64_t)d->mmio_base + d->mmio_len > 0x100000000ULL)
		return cvmm_err(EINVAL, "ACPI device %.4s: MMIO range passes 4 GiB", seg);
	if (d->has_irq && (d->gsi >= CVMM_ACPI_IOAPIC_PINS ||
			   d->irq_flags & ~(CVMM_AML_IRQ_LEVEL | CVMM_AML_IRQ_ACTIVE_LOW)))
		return cvmm_err(EINVAL, "ACPI device %.4s: bad interrupt %u flags %#x", seg, d->gsi,
				d->irq_flags);
	return 0;
}

static void dev_emit(struct cvmm_aml *a, const struct cvmm_acpi_device *d)
{
	cvmm_aml_device_begin(a, d->name);
	cvmm_aml_name(a, "_HID");
	cvmm_aml_hid(a, d->hid);
	cvmm_aml_name(a, "_UID");
	cvmm_aml_integer(a, d->uid);
	if (d->io_len || d->io2_len || d->mmio_len || d->has_irq) {
		cvmm_aml_name(a, "_CRS");
		cvmm_aml_resources_begin(a);
		if (d->io_len) /* fixed range: minimum and maximum base are equal */
			cvmm_aml_io(a, d->io_base, d->io_base, 1, (uint8_t)d->io_len);
		if (d->io2_len)
			cvmm_aml_io(a, d->io2_base, d->io2_base, 1, (uint8_t)d->io2_len);
		if (d->mmio_len)
			cvmm_aml_memory32_fixed(a, d->mmio_base, d->mmio_len, true);
		if (d->has_irq)
			cvmm_aml_ext_irq(a, d->gsi, d->irq_flags);
		cvmm_aml_end(a);
	}
	cvmm_aml_end(a);
}

int acpi_dsdt_body(const struct cvmm_acpi_config *cfg, struct cvmm_aml *a)
{
	int ret;

	if (cfg->nr_devices && !cfg->devices)
		return cvmm_err(EINVAL, "ACPI: NULL device list");
	for (size_t i = 0; i < cfg->nr_devices; i++) {
		ret = dev_check(cfg->devices, i);
		if (ret)
			return ret;
	}
	/* \_S5_: SLP_TYPa, SLP_TYPb, reserved, reserved. In hardware-reduced
	 * mode Linux writes SLP_TYPa << 2 | SLP_EN to the sleep control reg. */
	cvmm_aml_name(a, "\\_S5_");
	cvmm_aml_package_begin(a, 4);
	cvmm_aml_integer(a, CVMM_ACPI_S5_SLP_TYP);
	cvmm_aml_integer(a, CVMM_ACPI_S5_SLP_TYP);
	cvmm_aml_integer(a, 0);
	cvmm_aml_integer(a, 0);
	cvmm_aml_end(a);
	cvmm_aml_scope_begin(a, "\\_SB_");
	for (size_t i = 0; i < cfg->nr_devices; i++)
		dev_emit(a, &cfg->devices[i]);
	cvmm_aml_end(a);
	return cvmm_aml_finish(a);
}
