// SPDX-License-Identifier: Apache-2.0
/* Metrics: one JSON object per line, on FlushMetrics and every 60 s. */
#include "api.h"
#include "log.h"
#include "vmm.h"
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#define METRICS_PERIOD_NS (60ULL * 1000000000ULL)

static void metrics_tick(int fd, uint32_t events, void *opaque)
{
	(void)events;
	cvmm_eventfd_drain(fd, NULL); /* a timerfd reads like an eventfd */
	if (vmm_metrics_flush(opaque) < 0)
		vmm_log(VMM_LOG_WARNING, "metrics: %s", cvmm_err_msg());
}

int vmm_metrics_open(struct vmm *vmm, const char *path)
{
	int fd, tfd, ret;

	/* Non-blocking, like the log: a FIFO nobody drains loses lines. */
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NONBLOCK | O_CLOEXEC, 0600);
	if (fd < 0)
		return cvmm_err(errno, "cannot open '%s': %s", path,
				errno == ENXIO ? "a FIFO with no reader" : strerror(errno));
	tfd = cvmm_timerfd_open();
	if (tfd < 0) {
		close(fd);
		return tfd;
	}
	if ((ret = cvmm_timerfd_arm(tfd, METRICS_PERIOD_NS, METRICS_PERIOD_NS)) < 0 ||
	    (ret = cvmm_loop_add(vmm->loop, tfd, EPOLLIN, metrics_tick, vmm)) < 0) {
		close(tfd);
		close(fd);
		return ret;
	}
	vmm->metrics_fd = fd;
	vmm->metrics_timer_fd = tfd;
	return 0;
}

void vmm_metrics_close(struct vmm *vmm)
{
	if (vmm->metrics_timer_fd >= 0) {
		cvmm_loop_del(vmm->loop, vmm->metrics_timer_fd);
		close(vmm->metrics_timer_fd);
	}
	if (vmm->metrics_fd >= 0)
		close(vmm->metrics_fd);
	vmm->metrics_fd = vmm->metrics_timer_fd = -1;
}

static uint64_t ld(atomic_uint_fast64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

static json_t *metrics_json(struct vmm *vmm)
{
	const struct vmm_api_stats *as = &vmm->api->stats;
	json_t *o = json_object(), *vcpus = json_array(), *blk = json_object(),
	       *net = json_object();
	json_t *dev;
	struct timespec ts;
	uint64_t exits = 0, boot_ns;

	clock_gettime(CLOCK_REALTIME, &ts);
	json_object_set_new(o, "utc_timestamp_ms",
			    json_integer((json_int_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000));
	json_object_set_new(
	    o, "api",
	    json_pack("{s:I, s:I, s:I, s:I}", "requests", (json_int_t)as->requests, "errors",
		      (json_int_t)as->errors, "latency_us_avg",
		      (json_int_t)(as->requests ? as->latency_ns_total / as->requests / 1000 : 0),
		      "latency_us_max", (json_int_t)(as->latency_ns_max / 1000)));
	json_object_set_new(o, "state", json_string(vmm_api_state_name(vmm->api->state)));
	for (unsigned int i = 0; vmm->vcpus && i < vmm->nr_vcpus; i++) {
		struct vmm_vcpu_stats *s = &vmm->vcpus[i].stats;

		exits += ld(&s->io) + ld(&s->mmio) + ld(&s->intr) + ld(&s->other);
		json_array_append_new(vcpus, json_pack("{s:I, s:I, s:I, s:I}", "exits_io",
						       (json_int_t)ld(&s->io), "exits_mmio",
						       (json_int_t)ld(&s->mmio), "exits_intr",
						       (json_int_t)ld(&s->intr), "exits_other",
						       (json_int_t)ld(&s->other)));
	}
	json_object_set_new(o, "vcpu", vcpus);
	json_object_set_new(o, "vcpu_exits", json_integer((json_int_t)exits));
	if (vmm->devices) {
		uint64_t in, dropped;

		vmm_devices_serial_stats(vmm, &in, &dropped);
		json_object_set_new(o, "serial",
				    json_pack("{s:I, s:I}", "input_bytes", (json_int_t)in,
					      "output_dropped_bytes", (json_int_t)dropped));
	}
	vmm_disks_stats(vmm, blk);
	json_object_set_new(o, "block", blk);
	vmm_nets_stats(vmm, net);
	json_object_set_new(o, "net", net);
	dev = vmm_vsock_stats(vmm);
	if (dev)
		json_object_set_new(o, "vsock", dev);
	dev = vmm_rng_stats(vmm);
	if (dev)
		json_object_set_new(o, "rng", dev);
	boot_ns = __atomic_load_n(&vmm->boot_time_ns, __ATOMIC_RELAXED);
	json_object_set_new(o, "boot_time_ms",
			    boot_ns ? json_real((double)boot_ns / 1e6) : json_null());
	return o;
}

int vmm_metrics_flush(struct vmm *vmm)
{
	json_t *o;
	char *line;
	size_t len;
	ssize_t n;

	if (vmm->metrics_fd < 0)
		return cvmm_err(EINVAL, "no metrics output");
	o = metrics_json(vmm);
	line = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!line)
		return cvmm_err(ENOMEM, "out of memory");
	len = strlen(line);
	line[len++] = '\n'; /* replaces the NUL: written by length */
	n = write(vmm->metrics_fd, line, len);
	free(line);
	if (n < 0)
		return cvmm_err(errno, "write: %s", strerror(errno));
	return 0;
}
