/* SPDX-License-Identifier: Apache-2.0 */
/* Guest-physical layout and fixed resources of a cvmm microVM (x86-64).
 * docs/architecture.md explains each range. */
#ifndef CVMM_VMM_LAYOUT_H
#define CVMM_VMM_LAYOUT_H

#define LAYOUT_GDT 0x500ULL
#define LAYOUT_PVH_START_INFO 0x6000ULL
#define LAYOUT_PVH_MODLIST 0x6040ULL
#define LAYOUT_PVH_MEMMAP 0x6080ULL /* room for 128 entries up to 0x6c80 */
#define LAYOUT_ZERO_PAGE 0x7000ULL
#define LAYOUT_PAGE_TABLES 0x9000ULL
#define LAYOUT_CMDLINE 0x20000ULL
#define LAYOUT_EBDA 0x9FC00ULL /* end of base memory */
#define LAYOUT_ACPI_RSDP 0xE0000ULL
#define LAYOUT_ACPI_TABLES 0xE0040ULL
#define LAYOUT_ACPI_END 0xF0000ULL
#define LAYOUT_MPTABLE 0xF0000ULL /* Linux scans 0xF0000-0xFFFFF for it */
#define LAYOUT_MPTABLE_END 0x100000ULL
#define LAYOUT_HIGH_START 0x100000ULL
#define LAYOUT_MIN_RAM (16ULL << 20)

#define LAYOUT_TSS 0xFFFBD000ULL
#define LAYOUT_IDENTITY_MAP 0xFFFBC000ULL
#define LAYOUT_VIRTIO_MMIO_BASE 0xD0000000ULL
#define LAYOUT_VIRTIO_MMIO_STRIDE 0x1000ULL

/* Legacy ports and interrupts */
#define LAYOUT_COM1_PORT 0x3F8
#define LAYOUT_COM1_GSI 4
#define LAYOUT_BOOT_TIMER_PORT 0x3F0
#define LAYOUT_BOOT_TIMER_VALUE 123
#define LAYOUT_VIRTIO_GSI_BASE 5
/* virtio-mmio slots: GSIs 5..23, the IOAPIC's last pins. */
#define LAYOUT_VIRTIO_MAX_SLOTS 19u

/* Longest a queued console write may wait when the guest makes no exit. */
#define LAYOUT_COALESCED_FLUSH_NS 50000000ULL

#endif
