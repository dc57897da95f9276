// SPDX-License-Identifier: Apache-2.0
#include "fuzz_common.h"

#include <string.h>

struct d16 {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

int walk_chain(const uint8_t *ram, uint64_t desc, uint32_t qsz, uint16_t head, struct buf *out,
	       int cap)
{
	uint64_t table = desc;
	uint32_t size = qsz, i = head;
	int n = 0;

	for (uint32_t steps = 0; steps <= 2 * qsz + 2; steps++) {
		struct d16 d;

		uint64_t at = table + 16ull * i;

		if (i >= size || at > RAM - sizeof(d))
			return -1;
		memcpy(&d, ram + at, sizeof(d));
		if (d.flags & CVMM_VIRTQ_DESC_F_INDIRECT) {
			if (table != desc || d.len % 16 || d.len == 0 || d.len / 16 > qsz)
				return -1;
			table = d.addr;
			size = d.len / 16;
			i = 0;
			continue;
		}
		if (d.len && (d.addr > RAM || d.len > RAM - d.addr))
			return -1;
		if (d.len && n < cap)
			out[n++] = (struct buf){d.addr, d.len, d.flags & CVMM_VIRTQ_DESC_F_WRITE};
		if (!(d.flags & CVMM_VIRTQ_DESC_F_NEXT))
			return n;
		i = d.next;
	}
	return -1;
}
