// SPDX-License-Identifier: MIT
/*
 * ring_bench: one producer thread and one consumer thread, pinned to two
 * CPUs, pass messages through each queue; every (queue, mode, size) cell is
 * run several times and every run is printed:
 *
 *   N,<queue>,<mode>,<msg bytes>,<run>,<messages>,<ns>,<bad>,<cpu share>
 *
 * cpu share is the smaller of the two threads' CPU time over the run's wall
 * time: below 1 the host took a CPU away from the run (these machines are
 * shared). A cell keeps trying until --runs attempts had a share of at
 * least 0.9, or it made --runs attempts and spent 10x --ms on them, or it
 * made 3x --runs attempts; every attempt is printed and the report says
 * how many runs were disturbed.
 *
 * "# " lines describe the configuration. The modes are the queue's SPSC,
 * MPSC and MPMC code paths, each driven by the same 1 producer + 1
 * consumer: what differs is the synchronisation the path pays for, not
 * the number of threads (the machine has two cores).
 *
 * A cell's message count is calibrated once so that a run takes about
 * --ms milliseconds, then kept for every run of that cell.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ring_bench.h"

static const struct rb_impl *const impls[] = {
	&rb_chan, &rb_chan_fp, &rb_chan_spsc, &rb_chan_spsc_inline, &rb_chan_spsc_fence,
	&rb_chan_spsc_v1, &rb_chan_spsc_hdr, &rb_chan_spsc_compact, &rb_chan_spsc_compact_fence,
	&rb_ck, &rb_dpdk, &rb_boost_queue, &rb_boost_spsc,
	&rb_moodycamel, &rb_urcu, &rb_mutex, &rb_vyukov,
};
#define NR_IMPLS (sizeof(impls) / sizeof(impls[0]))

static const char *const mode_names[RB_NR_MODES] = { "spsc", "mpsc", "mpmc" };

static unsigned int cap = 1024, runs = 5, target_ms = 150;
static int cpu_prod = 0, cpu_cons = 1;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

struct run {
	const struct rb_impl *impl;
	void *q;
	int mode;
	unsigned int size;
	uint64_t n;
	atomic_int ready;
	uint64_t t0, t1, bad, cpu_cons;
};

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	/* Best effort: a machine with one CPU still runs the benchmark. */
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void start_line(struct run *r)
{
	atomic_fetch_add(&r->ready, 1);
	while (atomic_load(&r->ready) < 2)
		__builtin_ia32_pause();
}

static void *consumer(void *arg)
{
	struct run *r = arg;

	uint64_t c0;

	pin(cpu_cons);
	start_line(r);
	c0 = thread_cpu_ns();
	r->bad = r->impl->consume(r->q, r->mode, r->size, r->n);
	r->t1 = now_ns();
	r->cpu_cons = thread_cpu_ns() - c0;
	return NULL;
}

/* One run: returns its duration in ns, and the threads' CPU share. */
static uint64_t one_run(const struct rb_impl *impl, int mode,
			unsigned int size, uint64_t n, uint64_t *bad,
			double *share)
{
	uint64_t c0, prod_ns, wall;
	struct run r = {
		.impl = impl, .mode = mode, .size = size, .n = n,
	};
	pthread_t t;
	int err;

	r.q = impl->create(mode, size, cap);
	atomic_init(&r.ready, 0);
	err = pthread_create(&t, NULL, consumer, &r);
	if (err) {
		fprintf(stderr, "ring_bench: pthread_create: %s\n",
			strerror(err));
		exit(1);
	}
	pin(cpu_prod);
	start_line(&r);
	r.t0 = now_ns();
	c0 = thread_cpu_ns();
	impl->produce(r.q, mode, size, n);
	prod_ns = thread_cpu_ns() - c0;
	pthread_join(t, NULL);
	impl->destroy(r.q);
	*bad = r.bad;
	wall = r.t1 - r.t0;
	/* The producer may finish early by up to a ring's worth: scale its
	 * CPU time by its own span, not the consumer's.
	 */
	*share = wall ? (double)(prod_ns < r.cpu_cons ? prod_ns :
				 r.cpu_cons) / (double)wall : 0;
	if (*share > 1)
		*share = 1;
	return wall;
}

static int wanted(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p = list;

	if (!list)
		return 1;
	while ((p = strstr(p, name))) {
		if ((p == list || p[-1] == ',') && (p[n] == ',' || !p[n]))
			return 1;
		p += n;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *qlist = NULL, *mlist = NULL;
	static const unsigned int sizes[] = { 8, 64 };
	unsigned int i, m, s, k;
	int opt;

	while ((opt = getopt(argc, argv, "q:m:r:t:c:l")) != -1) {
		switch (opt) {
		case 'q': qlist = optarg; break;
		case 'm': mlist = optarg; break;
		case 'r': runs = (unsigned int)atoi(optarg); break;
		case 't': target_ms = (unsigned int)atoi(optarg); break;
		case 'c':
			if (sscanf(optarg, "%d,%d", &cpu_prod, &cpu_cons) != 2)
				goto usage;
			break;
		case 'l':
			for (i = 0; i < NR_IMPLS; i++)
				printf("%s\t%s\n", impls[i]->name,
				       impls[i]->what);
			return 0;
		default:
			goto usage;
		}
	}
	if (!runs || !target_ms)
		goto usage;

	printf("# ring_bench capacity=%u runs=%u target_ms=%u cpus=%d,%d threads=1 producer + 1 consumer\n",
	       cap, runs, target_ms, cpu_prod, cpu_cons);
	for (i = 0; i < NR_IMPLS; i++)
		if (wanted(qlist, impls[i]->name))
			printf("# queue %s (%s): %s\n", impls[i]->name,
			       impls[i]->peer ? "peer" : "not a peer",
			       impls[i]->what);
	fflush(stdout);

	for (m = 0; m < RB_NR_MODES; m++) {
		if (!wanted(mlist, mode_names[m]))
			continue;
		for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
			for (i = 0; i < NR_IMPLS; i++) {
				const struct rb_impl *impl = impls[i];
				uint64_t n = 200000, ns, bad, spent;
				unsigned int good = 0;
				double share;

				if (!wanted(qlist, impl->name) ||
				    !(impl->modes & RB_MODE_BIT(m)))
					continue;
				/* Calibrate: about target_ms per run. */
				ns = one_run(impl, (int)m, sizes[s], n, &bad,
					     &share);
				if (ns)
					n = n * target_ms * 1000000ULL / ns;
				if (n < 100000)
					n = 100000;
				if (n > 50000000)
					n = 50000000;
				spent = 0;
				for (k = 0; k < 3 * runs && good < runs &&
					    (k < runs ||
					     spent < 10 * target_ms * 1000000ULL);
				     k++) {
					ns = one_run(impl, (int)m, sizes[s],
						     n, &bad, &share);
					spent += ns;
					good += share >= 0.9;
					printf("N,%s,%s,%u,%u,%llu,%llu,%llu,%.3f\n",
					       impl->name, mode_names[m],
					       sizes[s], k,
					       (unsigned long long)n,
					       (unsigned long long)ns,
					       (unsigned long long)bad, share);
					fflush(stdout);
					if (bad) {
						fprintf(stderr,
							"ring_bench: %s %s: %llu messages out of order\n",
							impl->name,
							mode_names[m],
							(unsigned long long)bad);
						return 1;
					}
				}
			}
		}
	}
	return 0;
usage:
	fprintf(stderr,
		"usage: ring_bench [-q QUEUE,...] [-m spsc,mpsc,mpmc] [-r RUNS] [-t MS] [-c PRODCPU,CONSCPU] [-l]\n");
	return 2;
}
