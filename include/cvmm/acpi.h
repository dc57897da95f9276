/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cvmm-acpi: ACPI tables for a hardware-reduced x86 microVM, and a small AML
 * generator to describe devices.
 *
 * cvmm_acpi_build() writes RSDP, XSDT, FADT (revision 6, HW_REDUCED_ACPI),
 * MADT and DSDT into guest memory. The DSDT holds \_S5_ (so the guest can
 * power off through the FADT sleep control register) and one Device per
 * caller-described device under \_SB_. No FACS, no legacy PM blocks, no SCI.
 *
 * Power off: the guest writes CVMM_ACPI_S5_CTL_VALUE (SLP_TYP=5 << 2 |
 * SLP_EN) as one byte to the sleep control port. Before that Linux writes
 * CVMM_ACPI_WAK_STS (0x80) to the sleep status port to clear it; the monitor
 * should stop the VM on a control write with CVMM_ACPI_SLP_EN set.
 * Reboot: the guest writes reset_value as one byte to reset_port.
 *
 * Threading: no global state. A struct cvmm_aml is used by one thread at a
 * time; cvmm_acpi_build() may run concurrently on different memory ranges.
 */
#ifndef CVMM_ACPI_H
#define CVMM_ACPI_H

#include <cvmm/memory.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * AML generator.
 *
 * A growable byte buffer. Every emit function appends to it and returns 0
 * or -errno; the first error is sticky: later calls do nothing and return
 * it, so a sequence of calls can be checked once with cvmm_aml_finish().
 * Errors: -EINVAL (bad name/string/id, descriptor outside a resource
 * template, unbalanced cvmm_aml_end(), nesting deeper than
 * CVMM_AML_MAX_DEPTH), -E2BIG (a construct longer than a PkgLength can
 * encode), -ENOMEM.
 *
 * Nested constructs (Scope, Device, Package, Method, resource template) are
 * opened with *_begin() and closed, innermost first, with cvmm_aml_end(),
 * which encodes their PkgLength (1 to 4 bytes) in front of the contents.
 *
 * Names are ASL-style paths: optional "\" (root) or "^" (parent) prefixes,
 * then NameSegs of 1-4 characters [A-Z_][A-Z0-9_]* separated by ".", padded
 * with "_" to 4 characters ("_S5" and "_S5_" are the same name).
 */
#define CVMM_AML_MAX_DEPTH 16

struct cvmm_aml {
	uint8_t *buf; /* the AML bytes so far (read-only for callers) */
	size_t len;   /* number of bytes in buf */
	size_t cap;
	int err; /* sticky first error, 0 if none */
	unsigned int depth;
	struct {
		size_t pos; /* where the PkgLength goes */
		int kind;
	} open[CVMM_AML_MAX_DEPTH];
};

/* Start empty. Never fails (memory is allocated on first emit). */
void cvmm_aml_init(struct cvmm_aml *a);
/* Free the buffer; the struct may be re-initialised afterwards. */
void cvmm_aml_free(struct cvmm_aml *a);
/* 0 if no error happened and every construct is closed; otherwise the
 * sticky error, or -EINVAL if constructs are still open. */
int cvmm_aml_finish(struct cvmm_aml *a);

/* Encode a PkgLength value (which counts its own bytes) into out. Returns
 * the number of bytes (1-4) or -E2BIG if len > 0x0FFFFFFF. */
int cvmm_aml_pkglen_encode(uint32_t len, uint8_t out[4]);
/* Compress a 7-character EISA id ("PNP0501": 3 letters A-Z, 4 hex digits)
 * into its AML DWord value (0x0105D041). Returns 0 or -EINVAL. */
int cvmm_aml_eisaid(const char *id, uint32_t *out);

/* NameString for an ASL path ("\_SB_.COM1", "_HID", "^FOO", "\"). */
int cvmm_aml_name_string(struct cvmm_aml *a, const char *path);
/* Integer constant with the smallest encoding: Zero, One, BytePrefix,
 * WordPrefix, DWordPrefix or QWordPrefix. */
int cvmm_aml_integer(struct cvmm_aml *a, uint64_t value);
/* String constant; characters must be ASCII 0x01-0x7F. */
int cvmm_aml_string(struct cvmm_aml *a, const char *s);
/* A hardware id: an EISA id ("PNP0501") becomes its compressed DWord, any
 * other 1-8 character [A-Z0-9_] id ("LNRO0005") a String. */
int cvmm_aml_hid(struct cvmm_aml *a, const char *hid);
/* Name(path, ...): emits NameOp and the name; the caller emits the value
 * next (an integer, string, Package or resource template). */
int cvmm_aml_name(struct cvmm_aml *a, const char *path);
/* Return(...): emits ReturnOp; the caller emits the value next. */
int cvmm_aml_return(struct cvmm_aml *a);

int cvmm_aml_scope_begin(struct cvmm_aml *a, const char *path);
int cvmm_aml_device_begin(struct cvmm_aml *a, const char *path);
/* Package with nr_elements elements; the caller emits them. */
int cvmm_aml_package_begin(struct cvmm_aml *a, uint8_t nr_elements);
/* Method with 0-7 arguments. */
int cvmm_aml_method_begin(struct cvmm_aml *a, const char *path, unsigned int nr_args,
			  bool serialized);
/* ResourceTemplate(): a Buffer of resource descriptors. cvmm_aml_end()
 * appends the EndTag (checksum byte 0) and the buffer size. */
int cvmm_aml_resources_begin(struct cvmm_aml *a);
/* Close the innermost open construct. */
int cvmm_aml_end(struct cvmm_aml *a);

/* Resource descriptors; only inside cvmm_aml_resources_begin()/end(). */
int cvmm_aml_memory32_fixed(struct cvmm_aml *a, uint32_t base, uint32_t len, bool writable);
/* IO(Decode16, min, max, align, len). */
int cvmm_aml_io(struct cvmm_aml *a, uint16_t min, uint16_t max, uint8_t align, uint8_t len);

#define CVMM_AML_IRQ_LEVEL 0x1u	     /* level-triggered (default: edge) */
#define CVMM_AML_IRQ_ACTIVE_LOW 0x2u /* active low (default: active high) */
/* ExtendedInterrupt(ResourceConsumer, Edge|Level, ActiveHigh|ActiveLow,
 * Exclusive) { gsi }. Unknown flag bits are -EINVAL. */
int cvmm_aml_ext_irq(struct cvmm_aml *a, uint32_t gsi, unsigned int flags);

/*
 * Tables.
 */
#define CVMM_ACPI_LAPIC_ADDR 0xFEE00000u
#define CVMM_ACPI_IOAPIC_ADDR 0xFEC00000u
#define CVMM_ACPI_IOAPIC_PINS 24 /* GSIs 0..23, as KVM's in-kernel IOAPIC */
#define CVMM_ACPI_MAX_VCPUS 255	 /* xAPIC ids 0..254 */

#define CVMM_ACPI_S5_SLP_TYP 5 /* SLP_TYP in \_S5_ */
#define CVMM_ACPI_SLP_EN 0x20
#define CVMM_ACPI_WAK_STS 0x80
#define CVMM_ACPI_S5_CTL_VALUE ((CVMM_ACPI_S5_SLP_TYP << 2) | CVMM_ACPI_SLP_EN) /* 0x34 */

/* Suggested ports; any free I/O ports work. */
#define CVMM_ACPI_SLEEP_CTL_PORT 0x600
#define CVMM_ACPI_SLEEP_STS_PORT 0x601
#define CVMM_ACPI_RESET_PORT 0x602
#define CVMM_ACPI_RESET_VALUE 0x01

/* One Device under \_SB_. */
struct cvmm_acpi_device {
	const char *name;   /* NameSeg, 1-4 chars, unique: "COM1", "VR00" */
	const char *hid;    /* "PNP0501" (emitted as EISAID) or "LNRO0005" (String) */
	uint32_t uid;	    /* _UID */
	uint16_t io_base;   /* IO(Decode16) range, if io_len != 0 */
	uint16_t io_len;    /* 0-255; the range must not pass 0xFFFF */
	uint16_t io2_base;  /* a second range, if io2_len != 0 (a PNP0303 for */
	uint16_t io2_len;   /* Linux: 1-byte data port, then 1-byte command port) */
	uint32_t mmio_base; /* Memory32Fixed range, if mmio_len != 0 */
	uint32_t mmio_len;  /* the range must end at or below 4 GiB */
	bool has_irq;
	uint32_t gsi;		/* < CVMM_ACPI_IOAPIC_PINS */
	unsigned int irq_flags; /* CVMM_AML_IRQ_* */
};

struct cvmm_acpi_config {
	unsigned int nr_vcpus; /* 1..CVMM_ACPI_MAX_VCPUS; APIC ids 0..nr_vcpus-1 */
	uint8_t ioapic_id;
	uint32_t ioapic_addr;	 /* normally CVMM_ACPI_IOAPIC_ADDR; GSI base 0 */
	bool pcat_compat;	 /* an i8259 pair is present (MADT PCAT_COMPAT) */
	uint16_t sleep_ctl_port; /* FADT SLEEP_CONTROL_REG, 8-bit System I/O */
	uint16_t sleep_sts_port; /* FADT SLEEP_STATUS_REG; may equal ctl */
	uint16_t reset_port;	 /* FADT RESET_REG, 8-bit System I/O */
	uint8_t reset_value;
	/* An i8042 at ports 0x60/0x64 (FADT IAPC_BOOT_ARCH "8042"): Linux
	 * treats an FADT without the flag as "no keyboard controller". */
	bool i8042;
	const struct cvmm_acpi_device *devices; /* borrowed for the call only */
	size_t nr_devices;
	uint64_t base;	   /* guest-physical start of XSDT/FADT/MADT/DSDT */
	uint64_t max_size; /* bytes available at base */
	/* RSDP (36 bytes), 16-byte aligned, outside [base, base+max_size).
	 * Linux finds it by scanning 0xE0000-0xFFFFF (or via boot_params). */
	uint64_t rsdp_addr;
};

struct cvmm_acpi_result {
	uint64_t rsdp_addr;
	uint64_t size; /* bytes used from cfg->base */
	uint64_t xsdt_addr, fadt_addr, madt_addr, dsdt_addr;
};

/*
 * Build all tables and write them into guest memory: the RSDP at
 * cfg->rsdp_addr, the others from cfg->base. The caller should mark both
 * ranges reserved in the guest's memory map. out may be NULL.
 * Returns 0, or -EINVAL (bad config), -E2BIG (tables larger than
 * cfg->max_size), -EFAULT (a range is not guest RAM), -ENOMEM. Nothing is
 * written to guest memory on failure.
 */
int cvmm_acpi_build(const struct cvmm_mem *mem, const struct cvmm_acpi_config *cfg,
		    struct cvmm_acpi_result *out);

#ifdef __cplusplus
}
#endif
#endif
