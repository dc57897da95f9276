// SPDX-License-Identifier: Apache-2.0
#include <cvmm/kvm.h>
#include <cvmm/sys.h>
#include <errno.h>
#include <string.h>

/* Its only job is to exist: a handled signal makes KVM_RUN return EINTR. */
static void kick_handler(int sig)
{
	(void)sig;
}

int cvmm_kvm_kick_init(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kick_handler;
	sigemptyset(&sa.sa_mask);
	if (sigaction(CVMM_KVM_KICK_SIGNAL, &sa, NULL) < 0)
		return cvmm_err(errno, "sigaction(kick signal %d): %m", CVMM_KVM_KICK_SIGNAL);
	return 0;
}

int cvmm_kvm_vcpu_kick(struct cvmm_kvm_vcpu *vcpu, pthread_t thread)
{
	int ret;

	if (!vcpu->run)
		return cvmm_err(EBADF, "kick: vCPU is not open");
	/* Set before signalling: a kick that arrives outside KVM_RUN makes the
	 * next KVM_RUN return at once instead of being lost. */
	__atomic_store_n(&vcpu->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	ret = pthread_kill(thread, CVMM_KVM_KICK_SIGNAL);
	if (ret)
		return cvmm_err(ret, "kick vCPU %u: pthread_kill: %s", vcpu->id, strerror(ret));
	return 0;
}
