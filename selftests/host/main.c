// SPDX-License-Identifier: GPL-2.0
/*
 * Host-side tests of the ring protocol in kmod/chan_ring.h, compiled in
 * user space. Usage: ring_test [NAME-SUBSTRING...] runs the matching tests
 * (all by default) and prints TAP; the exit status is non-zero if any
 * failed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ring_tests.h"

int main(int argc, char **argv)
{
	static const struct {
		const struct host_test *tests;
		const unsigned int *count;
	} groups[] = {
		{ basic_tests, &basic_tests_count },
		{ lap_wrap_tests, &lap_wrap_tests_count },
		{ repair_tests, &repair_tests_count },
		{ garbage_tests, &garbage_tests_count },
		{ mpmc_tests, &mpmc_tests_count },
	};
	struct host_test *all;
	unsigned int i, n = 0;
	int ret;

	for (i = 0; i < ARRAY_SIZE(groups); i++)
		n += *groups[i].count;
	all = calloc(n, sizeof(*all));
	if (!all) {
		printf("Bail out! out of memory\n");
		return 2;
	}
	n = 0;
	for (i = 0; i < ARRAY_SIZE(groups); i++) {
		memcpy(all + n, groups[i].tests, *groups[i].count * sizeof(*all));
		n += *groups[i].count;
	}
	ret = host_tap_run(all, n, argv + 1, (unsigned int)(argc - 1));
	free(all);
	return ret;
}
