/* SPDX-License-Identifier: MIT */
/*
 * What the benchmarks inside the VM share: dying with a message, and the
 * clocks. Define BENCH_NAME (the program's name) before including it.
 */
#ifndef VM_BENCH_H
#define VM_BENCH_H

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, BENCH_NAME ": ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/*
 * The clock of the measurements. Under -icount shift=0 QEMU's TSC counts
 * guest instructions exactly (one per virtual ns), while CLOCK_MONOTONIC
 * converts the TSC with a frequency the guest calibrates at boot, which
 * differs by a part per million from boot to boot: -T tsc reads the TSC
 * itself. Without icount the TSC runs at the host's rate: use the default.
 */
static int use_tsc;

static uint64_t now_ns(void)
{
	if (use_tsc)
		return __builtin_ia32_rdtsc();
	return mono_ns();
}

/* -T CLOCK: "tsc" or "monotonic" (the default); -1 for anything else. */
static int clock_opt(const char *arg)
{
	if (!strcmp(arg, "tsc"))
		use_tsc = 1;
	else if (strcmp(arg, "monotonic"))
		return -1;
	return 0;
}

/*
 * Start every measurement at the same phase of the kernel's tick, which
 * Linux aligns to multiples of the tick period on CLOCK_MONOTONIC: sleep to
 * a 20 ms boundary (a multiple of the period at HZ 100, 250 and 1000).
 * Under icount the idle time costs no wall time, and whatever timers were
 * pending run before the measurement instead of inside it; without this,
 * a tick lands at a different instruction of the workload from one boot
 * to the next, and the figures move in the last digits.
 */
static void sync_tick(void)
{
	const uint64_t period = 20000000, offset = 100000;
	uint64_t t = mono_ns();
	struct timespec ts;

	t = (t / period + 2) * period + offset;
	ts.tv_sec = (time_t)(t / 1000000000ULL);
	ts.tv_nsec = (long)(t % 1000000000ULL);
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	       EINTR)
		;
}

#endif /* VM_BENCH_H */
