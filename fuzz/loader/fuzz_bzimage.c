// SPDX-License-Identifier: Apache-2.0
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cvmm_mem *mem = fuzz_mem();
	struct cvmm_loader_kernel k;

	cvmm_loader_detect(data, size);
	if (cvmm_loader_load_bzimage(mem, data, size, &k) == 0)
		fuzz_boot(mem, &k, data, size);
	return 0;
}
