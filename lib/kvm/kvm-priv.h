/* SPDX-License-Identifier: Apache-2.0 */
/* Internal to cvmm-kvm. */
#ifndef CVMM_KVM_PRIV_H
#define CVMM_KVM_PRIV_H

/* ioctl() that records "<what>: <strerror>" on failure. Returns the ioctl's
 * non-negative result or -errno. */
int kvm_ioctl(int fd, unsigned long req, void *arg, const char *what);

#endif
