/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A minimal TAP 13 runner for the host-side ring tests: a table of tests,
 * one result line each, and a watchdog that turns a hang into a failure.
 */
#ifndef HOST_TAP_H
#define HOST_TAP_H

#include <stdbool.h>
#include <stdint.h>

/**
 * struct host_test - one TAP test
 * @name: the description printed on its result line
 * @fn: runs it; returns true on success, prints "# " diagnostics on failure
 * @arg: passed to @fn
 */
struct host_test {
	const char *name;
	bool (*fn)(const void *arg);
	const void *arg;
};

/* Run every test whose name contains one of filters (all if none). */
int host_tap_run(const struct host_test *tests, unsigned int n,
		 char **filters, unsigned int nfilters);

/* A diagnostic line ("# ..."), safe from any thread. */
void host_tap_diag(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/* CLOCK_MONOTONIC now, in nanoseconds. */
uint64_t host_now_ns(void);

/* Seconds a single test may take before it counts as hung. */
#ifndef HOST_TEST_DEADLINE_S
#define HOST_TEST_DEADLINE_S	30
#endif

/* The running test's deadline (CLOCK_MONOTONIC ns); spin loops poll it. */
uint64_t host_test_deadline(void);
bool host_test_expired(void);

#define NSEC_PER_SEC	1000000000ULL

#endif /* HOST_TAP_H */
