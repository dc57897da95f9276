/* SPDX-License-Identifier: Apache-2.0 */
/* Internal to cvmm-x86. */
#ifndef CVMM_X86_PRIV_H
#define CVMM_X86_PRIV_H

#include <linux/kvm.h>
#include <stdint.h>

/* One present segment, described once so that the GDT entry written to guest
 * memory and the hidden state loaded through KVM_SET_SREGS cannot disagree. */
struct x86_seg {
	uint32_t base;
	uint32_t limit; /* raw 20-bit limit, in 4 KiB units when g */
	uint8_t type, s, l, db, g;
};

extern const struct x86_seg x86_seg_code64, x86_seg_code32, x86_seg_data, x86_seg_tss;

uint64_t x86_seg_descriptor(const struct x86_seg *s);
struct kvm_segment x86_seg_kvm(const struct x86_seg *s, uint16_t selector);

#endif
