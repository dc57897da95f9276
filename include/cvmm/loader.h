/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cvmm-loader: put an x86-64 Linux kernel, its initrd and command line into
 * guest RAM and write the boot structures it expects.
 *
 * Supported images: ELF64 x86-64 vmlinux (64-bit entry, and PVH entry when it
 * carries a Xen PHYS32_ENTRY note) and bzImage (boot protocol >= 2.06 with a
 * 64-bit entry point).
 *
 * Images, initrds and their sizes are untrusted: every offset is checked
 * against the buffer without overflow, and a malformed image yields a negative
 * errno and a message (cvmm_err_msg()) naming the faulty field; nothing is
 * read outside the given buffer and guest RAM is reached only through the
 * cvmm/memory.h accessors. Error codes used throughout:
 *   -ENOEXEC  the image is not a kernel we support or is malformed;
 *   -ENOMEM   the image is valid but does not fit in guest RAM;
 *   -E2BIG    a caller-supplied item (initrd, command line, memory map) is
 *             larger than the space allowed for it;
 *   -EINVAL   a caller argument is invalid.
 * The loaders copy nothing into guest RAM until the whole image has been
 * validated.
 *
 * Threading: no global state; functions may run concurrently on distinct
 * objects. Guest RAM writes are not synchronised with running vCPUs: load
 * before starting them.
 */
#ifndef CVMM_LOADER_H
#define CVMM_LOADER_H

#include <cvmm/memory.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Linux x86 boot protocol structures (Documentation/arch/x86/boot.rst and
 * zero-page.rst), little-endian, packed to the kernel's layout.
 */
#define CVMM_BOOT_HDR_MAGIC 0x53726448U /* "HdrS" at offset 0x202 */
#define CVMM_BOOT_FLAG_MAGIC 0xAA55
#define CVMM_BOOT_LOADED_HIGH 0x01   /* loadflags: protected-mode code at 0x100000+ */
#define CVMM_BOOT_XLF_KERNEL_64 0x01 /* xloadflags: 64-bit entry at load address + 0x200 */
#define CVMM_BOOT_XLF_CAN_BE_LOADED_ABOVE_4G 0x02
#define CVMM_BOOT_LOADER_UNDEFINED 0xff /* type_of_loader for loaders without an ID */
#define CVMM_BOOT_E820_MAX 128

/* Setup header: boot_params offset 0x1f1, also at file offset 0x1f1 of a bzImage. */
struct cvmm_setup_header {
	uint8_t setup_sects;
	uint16_t root_flags;
	uint32_t syssize;
	uint16_t ram_size;
	uint16_t vid_mode;
	uint16_t root_dev;
	uint16_t boot_flag;
	uint16_t jump;
	uint32_t header;
	uint16_t version;
	uint32_t realmode_swtch;
	uint16_t start_sys_seg;
	uint16_t kernel_version;
	uint8_t type_of_loader;
	uint8_t loadflags;
	uint16_t setup_move_size;
	uint32_t code32_start;
	uint32_t ramdisk_image;
	uint32_t ramdisk_size;
	uint32_t bootsect_kludge;
	uint16_t heap_end_ptr;
	uint8_t ext_loader_ver;
	uint8_t ext_loader_type;
	uint32_t cmd_line_ptr;
	uint32_t initrd_addr_max;
	uint32_t kernel_alignment;
	uint8_t relocatable_kernel;
	uint8_t min_alignment;
	uint16_t xloadflags;
	uint32_t cmdline_size;
	uint32_t hardware_subarch;
	uint64_t hardware_subarch_data;
	uint32_t payload_offset;
	uint32_t payload_length;
	uint64_t setup_data;
	uint64_t pref_address;
	uint32_t init_size;
	uint32_t handover_offset;
	uint32_t kernel_info_offset;
} __attribute__((packed));

/* One entry of the zero page's e820 table. */
struct cvmm_boot_e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
} __attribute__((packed));

/* The zero page ("struct boot_params"): 4096 bytes. Fields cvmm does not
 * fill are kept as opaque padding at their proper offsets. */
struct cvmm_boot_params {
	uint8_t screen_info[0x40];				    /* 0x000 */
	uint8_t apm_bios_info[0x14];				    /* 0x040 */
	uint8_t pad2[4];					    /* 0x054 */
	uint64_t tboot_addr;					    /* 0x058 */
	uint8_t ist_info[0x10];					    /* 0x060 */
	uint64_t acpi_rsdp_addr;				    /* 0x070 */
	uint8_t pad3[8];					    /* 0x078 */
	uint8_t hd0_info[16];					    /* 0x080 */
	uint8_t hd1_info[16];					    /* 0x090 */
	uint8_t sys_desc_table[0x10];				    /* 0x0a0 */
	uint8_t olpc_ofw_header[0x10];				    /* 0x0b0 */
	uint32_t ext_ramdisk_image;				    /* 0x0c0 */
	uint32_t ext_ramdisk_size;				    /* 0x0c4 */
	uint32_t ext_cmd_line_ptr;				    /* 0x0c8 */
	uint8_t pad4[0x140 - 0xcc];				    /* 0x0cc */
	uint8_t edid_info[0x80];				    /* 0x140 */
	uint8_t efi_info[0x20];					    /* 0x1c0 */
	uint32_t alt_mem_k;					    /* 0x1e0 */
	uint32_t scratch;					    /* 0x1e4 */
	uint8_t e820_entries;					    /* 0x1e8 */
	uint8_t eddbuf_entries;					    /* 0x1e9 */
	uint8_t edd_mbr_sig_buf_entries;			    /* 0x1ea */
	uint8_t kbd_status;					    /* 0x1eb */
	uint8_t secure_boot;					    /* 0x1ec */
	uint8_t pad5[2];					    /* 0x1ed */
	uint8_t sentinel;					    /* 0x1ef */
	uint8_t pad6[1];					    /* 0x1f0 */
	struct cvmm_setup_header hdr;				    /* 0x1f1 */
	uint8_t pad7[0x290 - 0x26c];				    /* 0x26c */
	uint32_t edd_mbr_sig_buffer[16];			    /* 0x290 */
	struct cvmm_boot_e820_entry e820_table[CVMM_BOOT_E820_MAX]; /* 0x2d0 */
	uint8_t pad8[0x1000 - 0xcd0];				    /* 0xcd0: eddbuf and padding */
} __attribute__((packed));

_Static_assert(sizeof(struct cvmm_setup_header) == 0x7b, "setup_header size");
_Static_assert(offsetof(struct cvmm_setup_header, header) == 0x202 - 0x1f1, "header");
_Static_assert(offsetof(struct cvmm_setup_header, cmdline_size) == 0x238 - 0x1f1, "cmdline_size");
_Static_assert(offsetof(struct cvmm_setup_header, pref_address) == 0x258 - 0x1f1, "pref_address");
_Static_assert(offsetof(struct cvmm_setup_header, init_size) == 0x260 - 0x1f1, "init_size");
_Static_assert(sizeof(struct cvmm_boot_e820_entry) == 20, "e820 entry size");
_Static_assert(sizeof(struct cvmm_boot_params) == 0x1000, "boot_params size");
_Static_assert(offsetof(struct cvmm_boot_params, acpi_rsdp_addr) == 0x070, "acpi_rsdp_addr");
_Static_assert(offsetof(struct cvmm_boot_params, ext_ramdisk_image) == 0x0c0, "ext_ramdisk");
_Static_assert(offsetof(struct cvmm_boot_params, ext_cmd_line_ptr) == 0x0c8, "ext_cmd_line");
_Static_assert(offsetof(struct cvmm_boot_params, e820_entries) == 0x1e8, "e820_entries");
_Static_assert(offsetof(struct cvmm_boot_params, sentinel) == 0x1ef, "sentinel");
_Static_assert(offsetof(struct cvmm_boot_params, hdr) == 0x1f1, "hdr");
_Static_assert(offsetof(struct cvmm_boot_params, edd_mbr_sig_buffer) == 0x290, "edd_mbr_sig");
_Static_assert(offsetof(struct cvmm_boot_params, e820_table) == 0x2d0, "e820_table");

/*
 * PVH boot structures (Xen public/arch-x86/hvm/start_info.h). A PVH kernel is
 * entered in 32-bit protected mode, paging off, with %ebx = start_info address.
 */
#define CVMM_HVM_START_MAGIC 0x336ec578U
#define CVMM_XEN_ELFNOTE_PHYS32_ENTRY 18

struct cvmm_hvm_start_info {
	uint32_t magic;
	uint32_t version; /* 1: memmap fields valid */
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;
	uint32_t memmap_entries;
	uint32_t reserved;
} __attribute__((packed));

struct cvmm_hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
} __attribute__((packed));

struct cvmm_hvm_memmap_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type; /* same values as enum cvmm_e820_type */
	uint32_t reserved;
} __attribute__((packed));

_Static_assert(sizeof(struct cvmm_hvm_start_info) == 0x38, "hvm_start_info size");
_Static_assert(offsetof(struct cvmm_hvm_start_info, memmap_paddr) == 0x28, "memmap_paddr");
_Static_assert(sizeof(struct cvmm_hvm_modlist_entry) == 32, "hvm_modlist_entry size");
_Static_assert(sizeof(struct cvmm_hvm_memmap_entry) == 24, "hvm_memmap_entry size");

/* ------------------------------------------------------------------------ */

enum cvmm_loader_kind {
	CVMM_LOADER_ELF = 1,
	CVMM_LOADER_BZIMAGE = 2,
};

/* What a loader put in guest RAM and how to enter it. */
struct cvmm_loader_kernel {
	enum cvmm_loader_kind kind;
	uint64_t entry64;	      /* guest-physical 64-bit entry (Linux 64-bit boot protocol) */
	bool has_pvh;		      /* ELF only: a Xen PHYS32_ENTRY note was found */
	uint32_t pvh_entry;	      /* guest-physical 32-bit PVH entry, valid if has_pvh */
	uint64_t load_addr;	      /* lowest guest-physical address written */
	uint64_t end;		      /* one past the highest address the kernel uses (bss,
				       * bzImage decompression area): initrds go above */
	uint64_t initrd_addr_max;     /* highest address an initrd byte may occupy */
	uint32_t cmdline_max;	      /* longest command line accepted, without NUL */
	struct cvmm_setup_header hdr; /* bzImage: header as found in the file;
				       * ELF: zero */
};

/* Longest command line cvmm handles, whatever the kernel advertises. */
#define CVMM_LOADER_CMDLINE_MAX 65536
/* Command-line limit reported for ELF kernels (x86 COMMAND_LINE_SIZE - 1). */
#define CVMM_LOADER_ELF_CMDLINE_MAX 2047
/* Where a non-relocatable bzImage's protected-mode code must go. */
#define CVMM_LOADER_BZIMAGE_LOW_ADDR 0x100000ULL

/* Which kind of kernel image (size bytes at image) is. Returns
 * CVMM_LOADER_ELF or CVMM_LOADER_BZIMAGE (only magic numbers are checked),
 * or -ENOEXEC ("not a kernel image"). */
int cvmm_loader_detect(const void *image, size_t size);

/*
 * Load an ELF64 x86-64 ET_EXEC vmlinux: each PT_LOAD segment is copied to
 * p_paddr and its p_memsz - p_filesz tail is zeroed; every segment must lie
 * inside one guest RAM region. entry64 is e_entry, translated from virtual to
 * physical through the segment containing it when it is not itself inside a
 * segment's physical range. A "Xen" note of type XEN_ELFNOTE_PHYS32_ENTRY in a
 * PT_NOTE segment (or, failing that, an SHT_NOTE section) sets pvh_entry.
 * At most 64 program headers. The headers are read from image once, so
 * image may change meanwhile (a mapped file being rewritten) without the
 * loader reading outside it. Fills *out on success. Errors: -ENOEXEC, -ENOMEM.
 */
int cvmm_loader_load_elf(const struct cvmm_mem *mem, const void *image, size_t size,
			 struct cvmm_loader_kernel *out);

/*
 * Load a bzImage: copies the protected-mode kernel (the file past the setup
 * sectors) to pref_address when the kernel is relocatable, suitably aligned
 * and its init_size fits there, else to 0x100000 (rounded up to
 * kernel_alignment when relocatable). entry64 = load address + 0x200. end
 * accounts for the in-place decompression area (init_size from
 * max(load address, pref_address)). Requires "HdrS", version >= 2.06,
 * LOADED_HIGH and XLF_KERNEL_64. Fills *out on success; out->hdr must be
 * given to cvmm_loader_write_boot_params(). Errors: -ENOEXEC, -ENOMEM.
 */
int cvmm_loader_load_bzimage(const struct cvmm_mem *mem, const void *image, size_t size,
			     struct cvmm_loader_kernel *out);

/* cvmm_loader_detect() then the matching loader. */
int cvmm_loader_load(const struct cvmm_mem *mem, const void *image, size_t size,
		     struct cvmm_loader_kernel *out);

/*
 * Copy an initrd of size bytes to the highest page-aligned guest address such
 * that it ends at or below min(kernel->initrd_addr_max + 1, limit, end of the
 * RAM region below 4 GiB) and starts at or above kernel->end. limit == 0 means
 * no caller limit. Sets *gpa. Errors: -ENOMEM (no room at all above the
 * kernel), -E2BIG (initrd larger than the room), -EINVAL (size == 0).
 */
int cvmm_loader_place_initrd(const struct cvmm_mem *mem, const struct cvmm_loader_kernel *kernel,
			     const void *initrd, size_t size, uint64_t limit, uint64_t *gpa);

/*
 * Command-line builder with a fixed capacity. Tokens are joined with single
 * spaces; an append that would exceed the capacity fails with -E2BIG and
 * leaves the line unchanged (nothing is ever truncated). The buffer is owned
 * by the struct: release it with cvmm_loader_cmdline_free().
 */
struct cvmm_loader_cmdline {
	char *buf;	 /* NUL-terminated line */
	size_t len;	 /* strlen(buf) */
	size_t capacity; /* longest allowed length, without NUL */
};

/* capacity: longest line without NUL, 0..CVMM_LOADER_CMDLINE_MAX (typically
 * kernel->cmdline_max). Errors: -EINVAL, -ENOMEM; *cl may be freed even
 * then. */
int cvmm_loader_cmdline_init(struct cvmm_loader_cmdline *cl, size_t capacity);
/* Release the buffer; *cl is left empty. */
void cvmm_loader_cmdline_free(struct cvmm_loader_cmdline *cl);
/* Append token (may itself contain spaces; "" is a no-op). Errors: -E2BIG. */
int cvmm_loader_cmdline_append(struct cvmm_loader_cmdline *cl, const char *token);
/* Write the line and its NUL at gpa; pass cl->len as
 * cvmm_loader_boot.cmdline_len. Errors: -EFAULT if not inside RAM. */
int cvmm_loader_cmdline_write(const struct cvmm_loader_cmdline *cl, const struct cvmm_mem *mem,
			      uint64_t gpa);

enum cvmm_e820_type {
	CVMM_E820_RAM = 1,
	CVMM_E820_RESERVED = 2,
	CVMM_E820_ACPI = 3,
	CVMM_E820_NVS = 4,
	CVMM_E820_UNUSABLE = 5,
};

struct cvmm_e820_entry {
	uint64_t addr;
	uint64_t size;
	enum cvmm_e820_type type;
};

/* Where the caller put the things the kernel is told about. */
struct cvmm_loader_boot {
	uint64_t cmdline_gpa; /* 0: no command line */
	uint32_t cmdline_len; /* without NUL */
	uint64_t initrd_gpa;  /* ignored when initrd_size == 0 */
	uint64_t initrd_size;
	uint64_t rsdp_gpa; /* ACPI RSDP, 0 if none */
	const struct cvmm_e820_entry *e820;
	size_t nr_e820;
};

/*
 * Write the 4 KiB zero page at gpa. The setup header is kernel->hdr for a
 * bzImage (with the loader-owned ramdisk, cmd_line_ptr, setup_data and
 * hardware_subarch fields cleared), or a synthesized one ("HdrS", version
 * 2.15, LOADED_HIGH) for an ELF kernel. Then type_of_loader = 0xff,
 * cmd_line_ptr/ext_cmd_line_ptr and hdr.cmdline_size = cmdline_len (if a
 * command line is given), ramdisk_image/size and their ext_ high halves,
 * acpi_rsdp_addr and the e820 table are filled; the rest of the page is zero.
 * Errors: -E2BIG (more than 128 e820 entries, or cmdline_len above
 * kernel->cmdline_max), -EINVAL (bad e820 type, empty or wrapping entry;
 * command line or initrd not in RAM; initrd above a bzImage's
 * initrd_addr_max), -EFAULT (zero page not in RAM).
 */
int cvmm_loader_write_boot_params(const struct cvmm_mem *mem, uint64_t gpa,
				  const struct cvmm_loader_kernel *kernel,
				  const struct cvmm_loader_boot *boot);

/* Guest addresses of the PVH structures; each area must hold what is written:
 * sizeof(struct cvmm_hvm_start_info), one cvmm_hvm_modlist_entry (if an
 * initrd is given), nr_e820 cvmm_hvm_memmap_entry. */
struct cvmm_loader_pvh_layout {
	uint64_t start_info_gpa;
	uint64_t modlist_gpa;
	uint64_t memmap_gpa;
};

/*
 * Write hvm_start_info (version 1) plus its module list (the initrd, if any,
 * as the single module, without a command line) and memory map built from
 * boot->e820. The kernel is entered at kernel->pvh_entry in 32-bit protected
 * mode with %ebx = layout->start_info_gpa. Errors: -E2BIG (more than 128 e820
 * entries), -EINVAL (bad e820 entry; command line or initrd not in RAM),
 * -EFAULT (a layout area not in RAM).
 */
int cvmm_loader_write_pvh(const struct cvmm_mem *mem, const struct cvmm_loader_pvh_layout *layout,
			  const struct cvmm_loader_boot *boot);

#ifdef __cplusplus
}
#endif
#endif
