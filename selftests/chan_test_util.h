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

/* ---- choosing tests from the command line ---- */

/*
 * The 6.1 harness runs every test and ignores its arguments. CT_HARNESS_MAIN
 * adds the newer harness's filters: -f FIXTURE, -v VARIANT, -t TEST,
 * -r FIXTURE[.VARIANT].TEST (each may repeat; a test runs if it matches
 * any), and -l to list the tests.
 */
#define CT_MAX_FILTERS	32

struct ct_filters {
	const char *f[CT_MAX_FILTERS], *v[CT_MAX_FILTERS];
	const char *t[CT_MAX_FILTERS], *r[CT_MAX_FILTERS];
	int nf, nv, nt, nr;
};

static inline bool ct_in(const char *const *list, int n, const char *name)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcmp(list[i], name))
			return true;
	return false;
}

static inline bool ct_selected(const struct ct_filters *flt,
			       const char *f, const char *v, const char *t)
{
	char full[512], short_name[512];

	snprintf(full, sizeof(full), "%s%s%s.%s", f, *v ? "." : "", v, t);
	snprintf(short_name, sizeof(short_name), "%s.%s", f, t);
	return ct_in(flt->f, flt->nf, f) || (*v && ct_in(flt->v, flt->nv, v)) ||
	       ct_in(flt->t, flt->nt, t) || ct_in(flt->r, flt->nr, full) ||
	       ct_in(flt->r, flt->nr, short_name);
}

/* Relink a harness list (next NULL-terminated, head->prev = last). */
#define CT_RELINK(head, keep, n)					\
	do {								\
		int __i;						\
		(head) = (n) ? (keep)[0] : NULL;			\
		for (__i = 0; __i < (n); __i++) {			\
			(keep)[__i]->next = __i + 1 < (n) ?		\
				(keep)[__i + 1] : NULL;			\
			(keep)[__i]->prev = (keep)[__i ? __i - 1 : (n) - 1]; \
		}							\
	} while (0)

static inline void ct_filter_tests(int argc, char **argv)
{
	static struct __fixture_variant_metadata no_variant = { .name = "" };
	struct __fixture_variant_metadata *v, *vkeep[256];
	struct __test_metadata *t, *tkeep[512];
	struct __fixture_metadata *f;
	struct ct_filters flt = { .nf = 0 };
	bool list = false;
	int opt, nv, nt;

	while ((opt = getopt(argc, argv, "f:v:t:r:lh")) != -1) {
		switch (opt) {
		case 'f':
			if (flt.nf < CT_MAX_FILTERS)
				flt.f[flt.nf++] = optarg;
			break;
		case 'v':
			if (flt.nv < CT_MAX_FILTERS)
				flt.v[flt.nv++] = optarg;
			break;
		case 't':
			if (flt.nt < CT_MAX_FILTERS)
				flt.t[flt.nt++] = optarg;
			break;
		case 'r':
			if (flt.nr < CT_MAX_FILTERS)
				flt.r[flt.nr++] = optarg;
			break;
		case 'l':
			list = true;
			break;
		default:
			fprintf(stderr, "usage: %s [-l] [-f FIXTURE] [-v VARIANT] "
				"[-t TEST] [-r FIXTURE[.VARIANT].TEST]\n",
				argv[0]);
			exit(opt == 'h' ? 0 : 2);
		}
	}
	if (list) {
		for (f = __fixture_list; f; f = f->next)
			for (v = f->variant ?: &no_variant; v; v = v->next)
				for (t = f->tests; t; t = t->next)
					printf("%s%s%s.%s\n", f->name,
					       v->name[0] ? "." : "", v->name,
					       t->name);
		exit(0);
	}
	if (!flt.nf && !flt.nv && !flt.nt && !flt.nr)
		return;
	for (f = __fixture_list; f; f = f->next) {
		nv = 0;
		for (v = f->variant ?: &no_variant; v; v = v->next) {
			for (t = f->tests; t; t = t->next)
				if (ct_selected(&flt, f->name, v->name, t->name))
					break;
			if (t && nv < 256)
				vkeep[nv++] = v;
		}
		nt = 0;
		for (t = f->tests; t; t = t->next) {
			for (v = f->variant ?: &no_variant; v; v = v->next)
				if (ct_selected(&flt, f->name, v->name, t->name))
					break;
			if (v && nt < 512)
				tkeep[nt++] = t;
		}
		if (!nv || !nt) {
			f->tests = NULL;	/* keeps its variants: none run */
			continue;
		}
		if (f->variant)
			CT_RELINK(f->variant, vkeep, nv);
		CT_RELINK(f->tests, tkeep, nt);
	}
}

#define CT_HARNESS_MAIN							\
	static void __attribute__((constructor))			\
	__constructor_order_last(void)					\
	{								\
		if (!__constructor_order)				\
			__constructor_order = _CONSTRUCTOR_ORDER_BACKWARD; \
	}								\
	int main(int argc, char **argv)					\
	{								\
		ct_filter_tests(argc, argv);				\
		return test_harness_run(argc, argv);			\
	}

#endif /* CHAN_TEST_UTIL_H */
