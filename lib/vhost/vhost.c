// SPDX-License-Identifier: Apache-2.0
/* vhost control path: ioctls on a /dev/vhost-* fd. */
#include <cvmm/sys.h>
#include <cvmm/vhost.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/vhost.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

struct cvmm_vhost {
	int fd;
	char *path;
	uint64_t features;
	const struct cvmm_mem *mem;
};

int cvmm_vhost_open(struct cvmm_vhost **out, const char *path)
{
	struct cvmm_vhost *v;
	int ret;

	if (!path)
		return cvmm_err(EINVAL, "vhost: no device path");
	v = calloc(1, sizeof(*v));
	if (!v || !(v->path = strdup(path))) {
		free(v);
		return cvmm_err(ENOMEM, "vhost: out of memory");
	}
	v->fd = open(path, O_RDWR | O_CLOEXEC);
	if (v->fd < 0) {
		ret = cvmm_err(errno, "cannot open %s: %m", path);
		goto fail;
	}
	if (ioctl(v->fd, VHOST_SET_OWNER) < 0) {
		ret = cvmm_err(errno, "%s: VHOST_SET_OWNER: %m", path);
		goto fail;
	}
	if (ioctl(v->fd, VHOST_GET_FEATURES, &v->features) < 0) {
		ret = cvmm_err(errno, "%s: VHOST_GET_FEATURES: %m", path);
		goto fail;
	}
	*out = v;
	return 0;
fail:
	cvmm_vhost_close(v);
	return ret;
}

void cvmm_vhost_close(struct cvmm_vhost *v)
{
	if (!v)
		return;
	if (v->fd >= 0)
		close(v->fd);
	free(v->path);
	free(v);
}

int cvmm_vhost_fd(const struct cvmm_vhost *v)
{
	return v->fd;
}

uint64_t cvmm_vhost_features(const struct cvmm_vhost *v)
{
	return v->features;
}

int cvmm_vhost_set_features(struct cvmm_vhost *v, uint64_t features)
{
	uint64_t f = features & v->features;

	if (ioctl(v->fd, VHOST_SET_FEATURES, &f) < 0)
		return cvmm_err(errno, "%s: VHOST_SET_FEATURES %#llx: %m", v->path,
				(unsigned long long)f);
	return 0;
}

int cvmm_vhost_set_mem(struct cvmm_vhost *v, const struct cvmm_mem *mem)
{
	unsigned int n = cvmm_mem_nr_regions(mem);
	struct vhost_memory *table;
	int ret = 0;

	table = calloc(1, sizeof(*table) + n * sizeof(table->regions[0]));
	if (!table)
		return cvmm_err(ENOMEM, "vhost: out of memory");
	table->nregions = n;
	for (unsigned int i = 0; i < n; i++) {
		struct cvmm_mem_region_info r;

		ret = cvmm_mem_region_get(mem, i, &r);
		if (ret < 0)
			goto out;
		table->regions[i] = (struct vhost_memory_region){
		    .guest_phys_addr = r.gpa,
		    .memory_size = r.size,
		    .userspace_addr = (uint64_t)(uintptr_t)r.host,
		};
	}
	if (ioctl(v->fd, VHOST_SET_MEM_TABLE, table) < 0) {
		ret = cvmm_err(errno, "%s: VHOST_SET_MEM_TABLE: %m", v->path);
		goto out;
	}
	v->mem = mem;
out:
	free(table);
	return ret;
}

/* Host address of a whole ring, or 0 if any byte of it is outside RAM. */
static uint64_t vhost_ring_host(const struct cvmm_mem *mem, uint64_t gpa, uint64_t len)
{
	return (uint64_t)(uintptr_t)cvmm_mem_ptr(mem, gpa, len);
}

static int vhost_vring_file(struct cvmm_vhost *v, unsigned long req, const char *what,
			    unsigned int i, int fd)
{
	struct vhost_vring_file f = {.index = i, .fd = fd};

	if (ioctl(v->fd, req, &f) < 0)
		return cvmm_err(errno, "%s: %s (queue %u): %m", v->path, what, i);
	return 0;
}

int cvmm_vhost_vring_start(struct cvmm_vhost *v, unsigned int i, const struct cvmm_vhost_vring *r)
{
	struct vhost_vring_state num = {.index = i, .num = r->size};
	struct vhost_vring_state base = {.index = i, .num = r->base};
	struct vhost_vring_addr addr = {.index = i};
	uint64_t n = r->size;
	int ret;

	if (i >= CVMM_VHOST_MAX_VRINGS || n == 0 || n > 32768 || (n & (n - 1)))
		return cvmm_err(EINVAL, "%s: queue %u: bad index or size %llu", v->path, i,
				(unsigned long long)n);
	if (!v->mem)
		return cvmm_err(EINVAL, "%s: queue %u started before the memory table", v->path,
				i);
	/* Split ring sizes, the event fields (used_event, avail_event) included. */
	addr.desc_user_addr = vhost_ring_host(v->mem, r->desc, 16 * n);
	addr.avail_user_addr = vhost_ring_host(v->mem, r->avail, 6 + 2 * n);
	addr.used_user_addr = vhost_ring_host(v->mem, r->used, 6 + 8 * n);
	if (!addr.desc_user_addr || !addr.avail_user_addr || !addr.used_user_addr)
		return cvmm_err(EFAULT, "%s: queue %u: ring outside guest RAM", v->path, i);
	if (ioctl(v->fd, VHOST_SET_VRING_NUM, &num) < 0)
		return cvmm_err(errno, "%s: VHOST_SET_VRING_NUM (queue %u): %m", v->path, i);
	if (ioctl(v->fd, VHOST_SET_VRING_BASE, &base) < 0)
		return cvmm_err(errno, "%s: VHOST_SET_VRING_BASE (queue %u): %m", v->path, i);
	if (ioctl(v->fd, VHOST_SET_VRING_ADDR, &addr) < 0)
		return cvmm_err(errno, "%s: VHOST_SET_VRING_ADDR (queue %u): %m", v->path, i);
	ret = vhost_vring_file(v, VHOST_SET_VRING_KICK, "VHOST_SET_VRING_KICK", i, r->kick_fd);
	if (ret == 0)
		ret = vhost_vring_file(v, VHOST_SET_VRING_CALL, "VHOST_SET_VRING_CALL", i,
				       r->call_fd);
	return ret;
}

int cvmm_vhost_vring_stop(struct cvmm_vhost *v, unsigned int i, uint16_t *base)
{
	struct vhost_vring_state st = {.index = i};
	int ret;

	if (i >= CVMM_VHOST_MAX_VRINGS)
		return cvmm_err(EINVAL, "%s: no queue %u", v->path, i);
	if (ioctl(v->fd, VHOST_GET_VRING_BASE, &st) < 0)
		return cvmm_err(errno, "%s: VHOST_GET_VRING_BASE (queue %u): %m", v->path, i);
	if (base)
		*base = (uint16_t)st.num;
	ret = vhost_vring_file(v, VHOST_SET_VRING_KICK, "VHOST_SET_VRING_KICK", i, -1);
	if (ret == 0)
		ret = vhost_vring_file(v, VHOST_SET_VRING_CALL, "VHOST_SET_VRING_CALL", i, -1);
	return ret;
}

int cvmm_vhost_net_set_backend(struct cvmm_vhost *v, unsigned int i, int fd)
{
	return vhost_vring_file(v, VHOST_NET_SET_BACKEND, "VHOST_NET_SET_BACKEND", i, fd);
}
