// SPDX-License-Identifier: GPL-2.0
/*
 * TAP output and the watchdog. The tests themselves poll the deadline and
 * fail cleanly when it passes; the watchdog is the last resort for a hang
 * that no loop notices (it must not happen, but a hang must never look
 * like a pass or stall the whole check run).
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "host_tap.h"

/* The watchdog's grace beyond a test's own deadline. */
#define HOST_WATCHDOG_GRACE_S	15

static pthread_mutex_t tap_lock = PTHREAD_MUTEX_INITIALIZER;

/* Set by the runner for the test in progress, read by the watchdog. */
static uint64_t cur_deadline;
static unsigned int cur_number;
static const char *cur_name;

uint64_t host_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

uint64_t host_test_deadline(void)
{
	return __atomic_load_n(&cur_deadline, __ATOMIC_RELAXED);
}

bool host_test_expired(void)
{
	return host_now_ns() > host_test_deadline();
}

void host_tap_diag(const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&tap_lock);
	printf("# %s\n", buf);
	fflush(stdout);
	pthread_mutex_unlock(&tap_lock);
}

static void *watchdog(void *unused)
{
	(void)unused;
	for (;;) {
		uint64_t dl = __atomic_load_n(&cur_deadline, __ATOMIC_ACQUIRE);

		if (dl && host_now_ns() > dl + HOST_WATCHDOG_GRACE_S * NSEC_PER_SEC) {
			/* Not under tap_lock: the hung test may hold it. */
			dprintf(STDOUT_FILENO,
				"not ok %u %s # hung: watchdog fired %d s after the test's %d s deadline\n",
				__atomic_load_n(&cur_number, __ATOMIC_ACQUIRE),
				__atomic_load_n(&cur_name, __ATOMIC_ACQUIRE),
				HOST_WATCHDOG_GRACE_S, HOST_TEST_DEADLINE_S);
			_exit(3);
		}
		usleep(100 * 1000);
	}
	return NULL;
}

static bool selected(const char *name, char **filters, unsigned int nfilters)
{
	unsigned int i;

	if (!nfilters)
		return true;
	for (i = 0; i < nfilters; i++)
		if (strstr(name, filters[i]))
			return true;
	return false;
}

int host_tap_run(const struct host_test *tests, unsigned int n,
		 char **filters, unsigned int nfilters)
{
	unsigned int i, planned = 0, number = 0, failed = 0;
	uint64_t t_start = host_now_ns();
	pthread_t wd;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; i < n; i++)
		planned += selected(tests[i].name, filters, nfilters);
	printf("TAP version 13\n1..%u\n", planned);
	if (pthread_create(&wd, NULL, watchdog, NULL)) {
		printf("Bail out! cannot start the watchdog thread\n");
		return 2;
	}
	pthread_detach(wd);

	for (i = 0; i < n; i++) {
		uint64_t t0;
		bool ok;

		if (!selected(tests[i].name, filters, nfilters))
			continue;
		number++;
		__atomic_store_n(&cur_name, tests[i].name, __ATOMIC_RELEASE);
		__atomic_store_n(&cur_number, number, __ATOMIC_RELEASE);
		t0 = host_now_ns();
		__atomic_store_n(&cur_deadline,
				 t0 + HOST_TEST_DEADLINE_S * NSEC_PER_SEC,
				 __ATOMIC_RELEASE);
		ok = tests[i].fn(tests[i].arg);
		__atomic_store_n(&cur_deadline, 0, __ATOMIC_RELEASE);
		pthread_mutex_lock(&tap_lock);
		printf("%s %u %s\n# %.3f s\n", ok ? "ok" : "not ok", number,
		       tests[i].name, (double)(host_now_ns() - t0) / NSEC_PER_SEC);
		pthread_mutex_unlock(&tap_lock);
		failed += !ok;
	}
	printf("# %u passed, %u failed in %.1f s\n", planned - failed, failed,
	       (double)(host_now_ns() - t_start) / NSEC_PER_SEC);
	return failed ? 1 : 0;
}
