// SPDX-License-Identifier: Apache-2.0
#include "kvm-priv.h"
#include <cvmm/kvm.h>
#include <cvmm/sys.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int kvm_ioctl(int fd, unsigned long req, void *arg, const char *what)
{
	int ret;

	if (fd < 0)
		return cvmm_err(EBADF, "%s: handle is not open", what);
	ret = ioctl(fd, req, arg);
	if (ret < 0)
		return cvmm_err(errno, "%s: %m", what);
	return ret;
}

int cvmm_kvm_open(struct cvmm_kvm *kvm, const char *path)
{
	int fd, ret;

	if (!path)
		path = CVMM_KVM_DEFAULT_PATH;
	kvm->fd = -1;
	kvm->vcpu_mmap_size = 0;
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return cvmm_err(errno, "open %s: %m", path);
	ret = ioctl(fd, KVM_GET_API_VERSION, 0);
	if (ret != CVMM_KVM_API_VERSION) {
		ret = ret < 0 ? cvmm_err(errno, "%s: KVM_GET_API_VERSION: %m", path)
			      : cvmm_err(EPROTO, "%s: KVM API version %d, need %d", path, ret,
					 CVMM_KVM_API_VERSION);
		close(fd);
		return ret;
	}
	ret = ioctl(fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (ret < (int)sizeof(struct kvm_run)) {
		ret = ret < 0 ? cvmm_err(errno, "%s: KVM_GET_VCPU_MMAP_SIZE: %m", path)
			      : cvmm_err(EPROTO, "%s: vCPU mmap size %d is too small", path, ret);
		close(fd);
		return ret;
	}
	kvm->fd = fd;
	kvm->vcpu_mmap_size = (size_t)ret;
	return 0;
}

void cvmm_kvm_close(struct cvmm_kvm *kvm)
{
	if (kvm->fd >= 0)
		close(kvm->fd);
	kvm->fd = -1;
}

int cvmm_kvm_check_extension(const struct cvmm_kvm *kvm, long cap)
{
	return kvm_ioctl(kvm->fd, KVM_CHECK_EXTENSION, (void *)cap, "KVM_CHECK_EXTENSION");
}

/* The needed size is not reported: grow until the kernel stops saying E2BIG. */
int cvmm_kvm_get_supported_cpuid(const struct cvmm_kvm *kvm, struct kvm_cpuid2 **out)
{
	for (uint32_t n = 64; n <= 4096; n *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
		int ret;

		if (!c)
			return cvmm_err(ENOMEM, "KVM_GET_SUPPORTED_CPUID: out of memory");
		c->nent = n;
		ret = ioctl(kvm->fd, KVM_GET_SUPPORTED_CPUID, c);
		if (ret >= 0) {
			*out = c;
			return 0;
		}
		ret = errno;
		free(c);
		if (ret != E2BIG)
			return cvmm_err(ret, "KVM_GET_SUPPORTED_CPUID: %s", strerror(ret));
	}
	return cvmm_err(E2BIG, "KVM_GET_SUPPORTED_CPUID: more than 4096 entries");
}

int cvmm_kvm_get_msr_index_list(const struct cvmm_kvm *kvm, struct kvm_msr_list **out)
{
	struct kvm_msr_list probe = {.nmsrs = 0}, *l;
	int ret;

	/* With nmsrs too small the kernel fails with E2BIG and writes the count. */
	if (ioctl(kvm->fd, KVM_GET_MSR_INDEX_LIST, &probe) < 0 && errno != E2BIG)
		return cvmm_err(errno, "KVM_GET_MSR_INDEX_LIST: %m");
	l = calloc(1, sizeof(*l) + probe.nmsrs * sizeof(l->indices[0]));
	if (!l)
		return cvmm_err(ENOMEM, "KVM_GET_MSR_INDEX_LIST: out of memory");
	l->nmsrs = probe.nmsrs;
	ret = kvm_ioctl(kvm->fd, KVM_GET_MSR_INDEX_LIST, l, "KVM_GET_MSR_INDEX_LIST");
	if (ret < 0) {
		free(l);
		return ret;
	}
	*out = l;
	return 0;
}
