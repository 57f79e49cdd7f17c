/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the host-side ring tests share besides the ring fixture: the
 * running test's own deadline and thread-safe diagnostics.  The tests run
 * under the kselftest harness (main.c), which also kills a test that
 * outlives its deadline by far.
 */
#ifndef HOST_UTIL_H
#define HOST_UTIL_H

#include <stdbool.h>
#include <stdint.h>

#include "chan_test_lib.h"

#define NSEC_PER_SEC	CT_SEC

/*
 * Seconds a single test may take before it fails by itself; the harness
 * kills it 10 s later (its default timeout, 30 s).
 */
#define HOST_TEST_DEADLINE_S	20

/* Start the running test's clock (main.c, before each test). */
void host_test_start(void);

/* The running test's deadline (CLOCK_MONOTONIC ns); spin loops poll it. */
uint64_t host_test_deadline(void);
bool host_test_expired(void);

/*
 * The first failure among a test's threads: it is recorded once, and the
 * other threads stop when they see it.
 */
struct host_stop {
	int stopped;
	char why[256];
};

void host_stop_fail(struct host_stop *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
bool host_stopped(struct host_stop *s);

/* A diagnostic line ("# ..."), safe from any thread. */
void host_diag(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

#endif /* HOST_UTIL_H */
