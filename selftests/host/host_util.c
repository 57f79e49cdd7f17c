// SPDX-License-Identifier: GPL-2.0
/*
 * The running test's deadline and diagnostics.  The tests poll the
 * deadline and fail cleanly when it passes; the harness's timeout is the
 * last resort for a hang that no loop notices.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>

#include "host_util.h"

static pthread_mutex_t diag_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t deadline;

void host_test_start(void)
{
	__atomic_store_n(&deadline, ct_now_ns() + HOST_TEST_DEADLINE_S * CT_SEC,
			 __ATOMIC_RELEASE);
}

uint64_t host_test_deadline(void)
{
	return __atomic_load_n(&deadline, __ATOMIC_ACQUIRE);
}

bool host_test_expired(void)
{
	return ct_now_ns() > host_test_deadline();
}

void host_diag(const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&diag_lock);
	printf("# %s\n", buf);
	fflush(stdout);
	pthread_mutex_unlock(&diag_lock);
}

void host_stop_fail(struct host_stop *s, const char *fmt, ...)
{
	va_list ap;

	if (__atomic_exchange_n(&s->stopped, 1, __ATOMIC_ACQ_REL))
		return;
	va_start(ap, fmt);
	vsnprintf(s->why, sizeof(s->why), fmt, ap);
	va_end(ap);
}

bool host_stopped(struct host_stop *s)
{
	return __atomic_load_n(&s->stopped, __ATOMIC_ACQUIRE);
}
