/* SPDX-License-Identifier: Apache-2.0 */
/* Shared inside lib/acpi only. */
#ifndef CVMM_ACPI_INTERNAL_H
#define CVMM_ACPI_INTERNAL_H

#include <cvmm/acpi.h>
#include <stdint.h>

/* Check cfg's devices and append the DSDT's AML body (everything after its
 * header) to a. Returns 0 or -errno (-EINVAL for a bad device). */
int acpi_dsdt_body(const struct cvmm_acpi_config *cfg, struct cvmm_aml *a);

/* ACPI tables and AML are little-endian whatever the host. */
static inline void le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void le32(uint8_t *p, uint32_t v)
{
	le16(p, (uint16_t)v);
	le16(p + 2, (uint16_t)(v >> 16));
}

static inline void le64(uint8_t *p, uint64_t v)
{
	le32(p, (uint32_t)v);
	le32(p + 4, (uint32_t)(v >> 32));
}

#endif
