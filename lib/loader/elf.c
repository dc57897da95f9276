// SPDX-License-Identifier: Apache-2.0
/* ELF64 x86-64 vmlinux loader. The ELF and program headers are copied out of
 * the (possibly unaligned) buffer once, then validated and used from that
 * copy: the buffer may be a mapping of a file that someone else rewrites, and
 * a second read could return offsets that were never checked. */
#include "loader-internal.h"
#include <cvmm/sys.h>
#include <elf.h>
#include <errno.h>
#include <string.h>

#define ELF_NOTE_HDR 12
/* A vmlinux has about five program headers; the cap bounds the copy. */
#define ELF_MAX_PHNUM 64

struct elf_hdrs {
	Elf64_Ehdr eh;
	Elf64_Phdr ph[ELF_MAX_PHNUM];
};

static int elf_read_hdrs(const uint8_t *buf, size_t size, struct elf_hdrs *h)
{
	Elf64_Ehdr *eh = &h->eh;
	uint64_t fit;

	if (size < sizeof(*eh))
		return cvmm_err(ENOEXEC, "ELF: file of %zu bytes is shorter than the ELF header",
				size);
	memcpy(eh, buf, sizeof(*eh));
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0)
		return cvmm_err(ENOEXEC, "ELF: bad magic");
	if (eh->e_ident[EI_CLASS] != ELFCLASS64)
		return cvmm_err(ENOEXEC, "ELF: class %u is not ELFCLASS64", eh->e_ident[EI_CLASS]);
	if (eh->e_ident[EI_DATA] != ELFDATA2LSB)
		return cvmm_err(ENOEXEC, "ELF: data encoding %u is not little-endian",
				eh->e_ident[EI_DATA]);
	if (eh->e_ident[EI_VERSION] != EV_CURRENT || eh->e_version != EV_CURRENT)
		return cvmm_err(ENOEXEC, "ELF: unknown version %u", eh->e_version);
	if (eh->e_type != ET_EXEC)
		return cvmm_err(ENOEXEC, "ELF: type %u is not ET_EXEC", eh->e_type);
	if (eh->e_machine != EM_X86_64)
		return cvmm_err(ENOEXEC, "ELF: machine %u is not x86-64", eh->e_machine);
	if (eh->e_phentsize != sizeof(Elf64_Phdr))
		return cvmm_err(ENOEXEC, "ELF: program header size %u, expected %zu",
				eh->e_phentsize, sizeof(Elf64_Phdr));
	if (eh->e_phnum == 0)
		return cvmm_err(ENOEXEC, "ELF: no program headers");
	if (eh->e_phnum > ELF_MAX_PHNUM)
		return cvmm_err(ENOEXEC, "ELF: %u program headers, at most %u supported",
				eh->e_phnum, ELF_MAX_PHNUM);
	if (eh->e_phoff > size)
		return cvmm_err(ENOEXEC, "ELF: program header 0 outside file (e_phoff 0x%llx)",
				(unsigned long long)eh->e_phoff);
	fit = (size - eh->e_phoff) / sizeof(Elf64_Phdr);
	if (fit < eh->e_phnum)
		return cvmm_err(ENOEXEC, "ELF: program header %llu outside file (%zu bytes)",
				(unsigned long long)fit, size);
	memcpy(h->ph, buf + eh->e_phoff, eh->e_phnum * sizeof(Elf64_Phdr));
	return 0;
}

static int elf_check_load(const struct cvmm_mem *mem, size_t size, unsigned int i,
			  const Elf64_Phdr *ph)
{
	if (ph->p_filesz > ph->p_memsz)
		return cvmm_err(ENOEXEC,
				"ELF: program header %u: p_filesz 0x%llx exceeds p_memsz 0x%llx", i,
				(unsigned long long)ph->p_filesz, (unsigned long long)ph->p_memsz);
	if (!loader_in_buf(ph->p_offset, ph->p_filesz, size))
		return cvmm_err(
		    ENOEXEC,
		    "ELF: program header %u: data at 0x%llx+0x%llx outside file (%zu bytes)", i,
		    (unsigned long long)ph->p_offset, (unsigned long long)ph->p_filesz, size);
	if (ph->p_memsz == 0)
		return 0;
	if (ph->p_paddr > UINT64_MAX - ph->p_memsz)
		return cvmm_err(
		    ENOEXEC, "ELF: program header %u: p_paddr 0x%llx + p_memsz 0x%llx overflows", i,
		    (unsigned long long)ph->p_paddr, (unsigned long long)ph->p_memsz);
	if (!cvmm_mem_valid(mem, ph->p_paddr, ph->p_memsz))
		return cvmm_err(ENOMEM,
				"ELF: program header %u: [0x%llx, 0x%llx) is not in guest RAM", i,
				(unsigned long long)ph->p_paddr,
				(unsigned long long)(ph->p_paddr + ph->p_memsz));
	return 0;
}

static uint64_t elf_align(uint64_t v, uint64_t align)
{
	return (v + align - 1) & ~(align - 1);
}

/* Walk the notes in p[0, len); stop at the first Xen PHYS32_ENTRY note. */
static int elf_scan_notes(const uint8_t *p, uint64_t len, uint64_t align, const char *what,
			  unsigned int idx, struct cvmm_loader_kernel *k)
{
	uint64_t off = 0;

	while (len - off >= ELF_NOTE_HDR) {
		uint32_t nh[3];
		uint64_t name_off = off + ELF_NOTE_HDR, desc_off, desc_pad;

		memcpy(nh, p + off, sizeof(nh));
		/* nh[0] and nh[1] are 32-bit: rounding them up cannot overflow. */
		if (elf_align(nh[0], align) > len - name_off)
			return cvmm_err(ENOEXEC,
					"ELF: %s %u: note name at 0x%llx runs past its end", what,
					idx, (unsigned long long)off);
		desc_off = name_off + elf_align(nh[0], align);
		if (nh[1] > len - desc_off)
			return cvmm_err(ENOEXEC,
					"ELF: %s %u: note descriptor at 0x%llx runs past its end",
					what, idx, (unsigned long long)off);
		if (nh[2] == CVMM_XEN_ELFNOTE_PHYS32_ENTRY && nh[0] == 4 &&
		    memcmp(p + name_off, "Xen", 4) == 0) {
			uint64_t entry;

			if (nh[1] == 4) {
				uint32_t e32;

				memcpy(&e32, p + desc_off, 4);
				entry = e32;
			} else if (nh[1] == 8) {
				memcpy(&entry, p + desc_off, 8);
			} else {
				return cvmm_err(
				    ENOEXEC, "ELF: Xen PHYS32_ENTRY note has a %u-byte descriptor",
				    nh[1]);
			}
			if (entry > UINT32_MAX)
				return cvmm_err(ENOEXEC, "ELF: PVH entry 0x%llx is above 4 GiB",
						(unsigned long long)entry);
			k->has_pvh = true;
			k->pvh_entry = (uint32_t)entry;
			return 0;
		}
		/* The last note may omit its trailing padding. */
		desc_pad = elf_align(nh[1], align);
		if (desc_pad >= len - desc_off)
			break;
		off = desc_off + desc_pad;
	}
	return 0;
}

static uint64_t elf_note_align(uint64_t a)
{
	return a == 8 ? 8 : 4;
}

static int elf_find_pvh_sections(const uint8_t *buf, size_t size, const Elf64_Ehdr *eh,
				 struct cvmm_loader_kernel *k)
{
	int ret;

	if (eh->e_shoff == 0 || eh->e_shnum == 0)
		return 0;
	if (eh->e_shentsize != sizeof(Elf64_Shdr))
		return cvmm_err(ENOEXEC, "ELF: section header size %u, expected %zu",
				eh->e_shentsize, sizeof(Elf64_Shdr));
	if (!loader_in_buf(eh->e_shoff, (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr), size))
		return cvmm_err(ENOEXEC,
				"ELF: section header table (0x%llx, %u entries) outside file",
				(unsigned long long)eh->e_shoff, eh->e_shnum);
	for (unsigned int i = 0; i < eh->e_shnum && !k->has_pvh; i++) {
		Elf64_Shdr sh;

		memcpy(&sh, buf + eh->e_shoff + (uint64_t)i * sizeof(sh), sizeof(sh));
		if (sh.sh_type != SHT_NOTE)
			continue;
		if (!loader_in_buf(sh.sh_offset, sh.sh_size, size))
			return cvmm_err(ENOEXEC, "ELF: section %u outside file", i);
		ret = elf_scan_notes(buf + sh.sh_offset, sh.sh_size,
				     elf_note_align(sh.sh_addralign), "section", i, k);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* Physical address for a kernel address: physical ranges first (vmlinux
 * e_entry is physical), then virtual ranges translated by their segment. */
static bool elf_to_phys(const struct elf_hdrs *h, uint64_t addr, bool virt_ok, uint64_t *phys)
{
	Elf64_Phdr ph;

	for (unsigned int i = 0; i < h->eh.e_phnum; i++) {
		ph = h->ph[i];
		if (ph.p_type == PT_LOAD && addr >= ph.p_paddr && addr - ph.p_paddr < ph.p_memsz) {
			*phys = addr;
			return true;
		}
	}
	for (unsigned int i = 0; virt_ok && i < h->eh.e_phnum; i++) {
		ph = h->ph[i];
		if (ph.p_type == PT_LOAD && addr >= ph.p_vaddr && addr - ph.p_vaddr < ph.p_memsz) {
			*phys = addr - ph.p_vaddr + ph.p_paddr;
			return true;
		}
	}
	return false;
}

/* Check every header and fill *k; writes nothing to guest RAM. */
static int elf_validate(const struct cvmm_mem *mem, const uint8_t *buf, size_t size,
			const struct elf_hdrs *h, struct cvmm_loader_kernel *k)
{
	uint64_t lo = UINT64_MAX, hi = 0, phys;
	Elf64_Phdr ph;
	int ret;

	for (unsigned int i = 0; i < h->eh.e_phnum; i++) {
		ph = h->ph[i];
		if (ph.p_type == PT_NOTE && !k->has_pvh) {
			if (!loader_in_buf(ph.p_offset, ph.p_filesz, size))
				return cvmm_err(ENOEXEC,
						"ELF: program header %u: note outside file", i);
			ret = elf_scan_notes(buf + ph.p_offset, ph.p_filesz,
					     elf_note_align(ph.p_align), "program header", i, k);
			if (ret < 0)
				return ret;
		}
		if (ph.p_type != PT_LOAD)
			continue;
		ret = elf_check_load(mem, size, i, &ph);
		if (ret < 0)
			return ret;
		if (ph.p_memsz == 0)
			continue;
		if (ph.p_paddr < lo)
			lo = ph.p_paddr;
		if (ph.p_paddr + ph.p_memsz > hi)
			hi = ph.p_paddr + ph.p_memsz;
	}
	if (hi == 0)
		return cvmm_err(ENOEXEC, "ELF: no loadable segment");
	if (!k->has_pvh) {
		ret = elf_find_pvh_sections(buf, size, &h->eh, k);
		if (ret < 0)
			return ret;
	}
	if (k->has_pvh && !elf_to_phys(h, k->pvh_entry, false, &phys))
		return cvmm_err(ENOEXEC, "ELF: PVH entry 0x%x is not inside a loaded segment",
				k->pvh_entry);
	if (!elf_to_phys(h, h->eh.e_entry, true, &k->entry64))
		return cvmm_err(ENOEXEC, "ELF: entry point 0x%llx is not inside a loaded segment",
				(unsigned long long)h->eh.e_entry);
	k->load_addr = lo;
	k->end = hi;
	return 0;
}

int cvmm_loader_load_elf(const struct cvmm_mem *mem, const void *image, size_t size,
			 struct cvmm_loader_kernel *out)
{
	struct cvmm_loader_kernel k = {
	    .kind = CVMM_LOADER_ELF,
	    .initrd_addr_max = UINT64_MAX,
	    .cmdline_max = CVMM_LOADER_ELF_CMDLINE_MAX,
	};
	const uint8_t *buf = image;
	struct elf_hdrs h;
	int ret;

	ret = elf_read_hdrs(buf, size, &h);
	if (ret < 0)
		return ret;
	ret = elf_validate(mem, buf, size, &h, &k);
	if (ret < 0)
		return ret;
	for (unsigned int i = 0; i < h.eh.e_phnum; i++) {
		const Elf64_Phdr ph = h.ph[i];

		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		/* Zero-length accesses are skipped: the end of RAM is not a valid gpa. */
		if ((ph.p_filesz &&
		     cvmm_mem_write(mem, ph.p_paddr, buf + ph.p_offset, ph.p_filesz) < 0) ||
		    (ph.p_memsz > ph.p_filesz &&
		     cvmm_mem_fill(mem, ph.p_paddr + ph.p_filesz, 0, ph.p_memsz - ph.p_filesz) < 0))
			return cvmm_err(EFAULT, "ELF: program header %u: guest RAM write failed",
					i);
	}
	*out = k;
	return 0;
}
