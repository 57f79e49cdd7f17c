/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What every chan selftest includes: the helpers of chan_test_lib.h
 * (compiled once, in libct.a), the kselftest harness, and errno assertions
 * in the manner of the iommufd selftest.
 */
#ifndef CHAN_TEST_UTIL_H
#define CHAN_TEST_UTIL_H

#include "chan_test_lib.h"

/* The harness itself is not -Wextra clean (an unused handler argument). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#pragma GCC diagnostic pop

/*
 * ASSERT that cmd fails (returns -1) and EXPECT errno to be expected_errno.
 * errno is sampled right after cmd, before the harness can touch it.
 */
#define EXPECT_ERRNO(expected_errno, cmd)				\
	({								\
		long __ret = (long)(cmd);				\
		int __err = errno;					\
		ASSERT_EQ(-1, __ret);					\
		EXPECT_EQ(expected_errno, __err);			\
	})

#define ASSERT_ERRNO(expected_errno, cmd)				\
	({								\
		long __ret = (long)(cmd);				\
		int __err = errno;					\
		ASSERT_EQ(-1, __ret);					\
		ASSERT_EQ(expected_errno, __err);			\
	})

/* EXPECT_ERRNO that logs a line of context (printf-style) when it fails. */
#define EXPECT_ERRNO_CTX(expected_errno, cmd, fmt, ...)			\
	({								\
		long __ret = (long)(cmd);				\
		int __err = errno;					\
		if (__ret != -1 || __err != (expected_errno))		\
			TH_LOG(fmt, ##__VA_ARGS__);			\
		ASSERT_EQ(-1, __ret);					\
		EXPECT_EQ(expected_errno, __err);			\
	})

/* ASSERT that cmd returned 0; log errno when it did not. */
#define ASSERT_OK(cmd)							\
	({								\
		long __ret = (long)(cmd);				\
		int __err = errno;					\
		if (__ret != 0)						\
			TH_LOG("%s failed: ret %ld errno %d (%s)", #cmd,	\
			       __ret, __err, strerror(__err));		\
		ASSERT_EQ(0, __ret);					\
	})

#define EXPECT_OK(cmd)							\
	({								\
		long __ret = (long)(cmd);				\
		int __err = errno;					\
		if (__ret != 0)						\
			TH_LOG("%s failed: ret %ld errno %d (%s)", #cmd,	\
			       __ret, __err, strerror(__err));		\
		EXPECT_EQ(0, __ret);					\
	})

/*
 * main() for a test binary: the harness's own test_harness_run(), behind
 * ct_harness_main()'s filters (-f, -v, -t, -r, -l: see chan_test_lib.h),
 * which 6.1's harness lacks.
 */
#define CT_HARNESS_MAIN							\
	int main(int argc, char **argv)					\
	{								\
		return ct_harness_main(argc, argv, test_harness_run);	\
	}

#endif /* CHAN_TEST_UTIL_H */
