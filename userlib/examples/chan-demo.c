// SPDX-License-Identifier: MIT
/*
 * chan-demo: P producer processes and C consumer processes share one
 * channel. Each producer sends its share of the messages, each carrying
 * {producer, sequence number}; consumers receive until the channel reports
 * EPIPE (the last producer closed and the queue is drained).
 *
 * The channel is mappable and every process uses a libchan endpoint
 * handle, so most messages go through the mapped ring without a system
 * call; the demo counts how many did. -K uses a channel that is not
 * mappable: every message then goes through the kernel.
 *
 * What arrived is checked in memory shared by all processes: one bit per
 * message, set atomically by whoever receives it, so every message must
 * arrive exactly once; and every consumer remembers the last sequence
 * number it saw from each producer, so per-producer order must hold at
 * every consumer.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "libchan.h"

struct demo_msg {
	uint32_t producer;
	uint32_t seq;
};

struct producer_stats {
	uint64_t sent;
	uint64_t fast;		/* of which without a system call */
	uint64_t wakes;		/* wake-ups asked of the kernel */
	int error;		/* -errno that stopped it, or 0 */
};

struct consumer_stats {
	uint64_t received;
	uint64_t fast;		/* of which without a system call */
	uint64_t duplicates;	/* bit already set */
	uint64_t out_of_order;	/* seq not above the last one from its producer */
	uint64_t corrupt;	/* bad length, producer, seq or filler */
	int error;		/* -errno other than the final EPIPE, or 0 */
};

struct demo {
	unsigned int producers;
	unsigned int consumers;
	uint64_t messages;
	uint32_t msg_size;
	uint32_t capacity;
	uint32_t id;
	int kernel_only;
	/* In shared memory: */
	struct producer_stats *pstats;
	struct consumer_stats *cstats;
	_Atomic uint64_t **seen;	/* per producer, one bit per seq */
	/* Children write a byte here once their endpoint is open... */
	int ready[2];
	/* ...and start when the parent closes the write end of this one. */
	int go[2];
};

static uint64_t share_of(const struct demo *d, unsigned int p)
{
	return d->messages / d->producers + (p < d->messages % d->producers);
}

/* Bytes past the header carry a pattern derived from it, to catch tearing. */
static unsigned char filler(const struct demo_msg *m, size_t i)
{
	return (unsigned char)(m->producer * 131 + m->seq * 7 + i);
}

static void *shared_alloc(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("chan-demo: mmap");
		exit(1);
	}
	return p;
}

/*
 * Tell the parent whether the endpoint opened (it counts the bytes, so a
 * child that failed must write too), then wait for everyone else.
 */
static int child_sync(struct demo *d, int ok)
{
	char c = (char)ok;

	close(d->ready[0]);
	close(d->go[1]);
	if (write(d->ready[1], &c, 1) != 1 || !ok)
		return -1;
	while (read(d->go[0], &c, 1) < 0 && errno == EINTR)
		;
	return 0;
}

static int run_producer(struct demo *d, unsigned int p)
{
	struct producer_stats *st = &d->pstats[p];
	uint64_t n = share_of(d, p);
	unsigned char *buf;
	struct demo_msg m = { .producer = p };
	struct chan_ep_stats es;
	struct chan_ep *ep = NULL;
	size_t i;
	int ret = 0;

	buf = calloc(1, d->msg_size);
	ret = chan_ep_open(&ep, d->id, CHAN_ROLE_SEND, CHAN_OPEN_CLOEXEC);
	if (!buf || ret)
		st->error = buf ? ret : -ENOMEM;
	if (child_sync(d, !st->error))
		return 1;
	for (m.seq = 0; m.seq < n; m.seq++) {
		memcpy(buf, &m, sizeof(m));
		for (i = sizeof(m); i < d->msg_size; i++)
			buf[i] = filler(&m, i);
		ret = chan_ep_send(ep, buf, d->msg_size);
		if (ret)
			break;
		st->sent++;
	}
	st->error = ret;
	chan_ep_get_stats(ep, &es, sizeof(es));
	st->fast = es.fast_sent;
	st->wakes = es.wakes;
	/* Closing the last sender endpoint is what ends the consumers. */
	chan_ep_close(ep);
	return ret ? 1 : 0;
}

static void check_msg(struct demo *d, struct consumer_stats *st,
		      const unsigned char *buf, ssize_t len, int64_t *last)
{
	struct demo_msg m;
	uint64_t bit;
	size_t i;

	if (len != (ssize_t)d->msg_size) {
		st->corrupt++;
		return;
	}
	memcpy(&m, buf, sizeof(m));
	if (m.producer >= d->producers || m.seq >= share_of(d, m.producer)) {
		st->corrupt++;
		return;
	}
	for (i = sizeof(m); i < d->msg_size; i++) {
		if (buf[i] != filler(&m, i)) {
			st->corrupt++;
			return;
		}
	}
	bit = 1ULL << (m.seq % 64);
	if (atomic_fetch_or_explicit(&d->seen[m.producer][m.seq / 64], bit,
				     memory_order_relaxed) & bit)
		st->duplicates++;
	if ((int64_t)m.seq <= last[m.producer])
		st->out_of_order++;
	last[m.producer] = m.seq;
}

static int run_consumer(struct demo *d, unsigned int c)
{
	struct consumer_stats *st = &d->cstats[c];
	unsigned char *buf = malloc(d->msg_size);
	int64_t *last = malloc(d->producers * sizeof(*last));
	struct chan_ep_stats es;
	struct chan_ep *ep = NULL;
	unsigned int p;
	ssize_t len;
	int ret;

	ret = chan_ep_open(&ep, d->id, CHAN_ROLE_RECV, CHAN_OPEN_CLOEXEC);
	if (!buf || !last || ret)
		st->error = ret ? ret : -ENOMEM;
	if (child_sync(d, !st->error))
		return 1;
	for (p = 0; p < d->producers; p++)
		last[p] = -1;
	while ((len = chan_ep_recv(ep, buf, d->msg_size)) >= 0) {
		st->received++;
		check_msg(d, st, buf, len, last);
	}
	if (len != -EPIPE)
		st->error = (int)len;
	chan_ep_get_stats(ep, &es, sizeof(es));
	st->fast = es.fast_received;
	chan_ep_close(ep);
	return st->error ? 1 : 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: chan-demo [-p PRODUCERS] [-c CONSUMERS] [-n MESSAGES]\n"
		"                 [-s MSG_SIZE] [-q CAPACITY] [-K]\n"
		"defaults: -p 4 -c 4 -n 200000 -s 16 -q 256; MSG_SIZE >= %zu\n"
		"-K: a channel that is not mappable (kernel path only)\n",
		sizeof(struct demo_msg));
	exit(2);
}

static unsigned long long number(const char *s, unsigned long long min,
				 unsigned long long max)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (*s == '-' || errno || end == s || *end || v < min || v > max)
		usage();
	return v;
}

static double seconds(uint64_t ns)
{
	return (double)ns / 1e9;
}

int main(int argc, char **argv)
{
	struct demo d = {
		.producers = 4, .consumers = 4, .messages = 200000,
		.msg_size = 16, .capacity = 256,
	};
	struct chan_attr attr = { 0 };
	struct chan_info info;
	uint64_t p_sent = 0, c_recv = 0, dups = 0, order = 0, corrupt = 0;
	uint64_t missing = 0, t0, t1, q, fast_sent = 0, fast_recv = 0;
	uint64_t wakes = 0;
	unsigned int nchildren, i, p, c, failed_children = 0;
	int opt, ret, status, fail = 0;
	pid_t *pids;
	char byte;

	while ((opt = getopt(argc, argv, "p:c:n:s:q:Kh")) != -1) {
		switch (opt) {
		case 'K':
			d.kernel_only = 1;
			break;
		case 'p':
			d.producers = (unsigned int)number(optarg, 1, 1024);
			break;
		case 'c':
			d.consumers = (unsigned int)number(optarg, 1, 1024);
			break;
		case 'n':
			d.messages = number(optarg, 0, UINT32_MAX);
			break;
		case 's':
			d.msg_size = (uint32_t)number(optarg,
						      sizeof(struct demo_msg),
						      CHAN_MSG_SIZE_MAX);
			break;
		case 'q':
			d.capacity = (uint32_t)number(optarg, 1,
						      CHAN_CAPACITY_MAX);
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();

	ret = chan_dev_fd();
	if (ret < 0) {
		fprintf(stderr, "chan-demo: open /dev/chan: %s\n",
			strerror(-ret));
		return 1;
	}
	attr.msg_size = d.msg_size;
	attr.capacity = d.capacity;
	attr.mode = 0600;
	attr.flags = d.kernel_only ? 0 : CHAN_CREATE_MAPPABLE;
	ret = chan_create(&attr, &d.id);
	if (ret) {
		fprintf(stderr, "chan-demo: create: %s\n", strerror(-ret));
		return 1;
	}

	d.pstats = shared_alloc(d.producers * sizeof(*d.pstats));
	d.cstats = shared_alloc(d.consumers * sizeof(*d.cstats));
	d.seen = calloc(d.producers, sizeof(*d.seen));
	pids = calloc(d.producers + d.consumers, sizeof(*pids));
	if (!d.seen || !pids) {
		fprintf(stderr, "chan-demo: out of memory\n");
		return 1;
	}
	for (p = 0; p < d.producers; p++)
		d.seen[p] = shared_alloc((share_of(&d, p) / 64 + 1) *
					 sizeof(uint64_t));
	if (pipe(d.ready) || pipe(d.go)) {
		perror("chan-demo: pipe");
		return 1;
	}

	printf("chan-demo: channel %" PRIu32 ", %u producers, %u consumers, "
	       "%" PRIu64 " messages of %" PRIu32 " bytes, capacity %" PRIu32
	       ", %s\n", d.id, d.producers, d.consumers, d.messages,
	       d.msg_size, d.capacity,
	       d.kernel_only ? "kernel path" : "mapped (fast path)");
	fflush(stdout);

	nchildren = d.producers + d.consumers;
	for (i = 0; i < nchildren; i++) {
		pids[i] = fork();
		if (pids[i] < 0) {
			perror("chan-demo: fork");
			/* Children already started are released below and fail. */
			nchildren = i;
			fail = 1;
			break;
		}
		if (pids[i] == 0)
			_exit(i < d.producers ?
			      run_producer(&d, i) :
			      run_consumer(&d, i - d.producers));
	}

	/*
	 * Start the clock once every child has tried to open its endpoint:
	 * until all are open a consumer could see "no senders" or a producer
	 * "no receivers".
	 */
	close(d.ready[1]);
	close(d.go[0]);
	for (i = 0; i < nchildren; i++)
		if (read(d.ready[0], &byte, 1) != 1)
			break;
	t0 = chan_now_ns();
	close(d.go[1]);
	close(d.ready[0]);

	for (i = 0; i < nchildren; i++) {
		status = 0;
		if (waitpid(pids[i], &status, 0) < 0 ||
		    !WIFEXITED(status) || WEXITSTATUS(status)) {
			failed_children++;
			if (WIFSIGNALED(status))
				fprintf(stderr, "chan-demo: child %u: signal %d\n",
					i, WTERMSIG(status));
		}
	}
	t1 = chan_now_ns();

	for (p = 0; p < d.producers; p++) {
		uint64_t words = share_of(&d, p) / 64 + 1;
		uint64_t w, s;

		p_sent += d.pstats[p].sent;
		fast_sent += d.pstats[p].fast;
		wakes += d.pstats[p].wakes;
		for (w = 0; w < words; w++) {
			uint64_t bits = atomic_load(&d.seen[p][w]);

			for (s = w * 64; s < (w + 1) * 64 && s < share_of(&d, p); s++)
				missing += !(bits >> (s % 64) & 1);
		}
	}
	for (c = 0; c < d.consumers; c++) {
		c_recv += d.cstats[c].received;
		fast_recv += d.cstats[c].fast;
		dups += d.cstats[c].duplicates;
		order += d.cstats[c].out_of_order;
		corrupt += d.cstats[c].corrupt;
	}

	q = t1 > t0 ? t1 - t0 : 1;
	printf("elapsed %.3f s, %.0f msgs/s\n", seconds(q),
	       (double)c_recv / seconds(q));
	for (p = 0; p < d.producers; p++) {
		printf("producer %u: sent %" PRIu64, p, d.pstats[p].sent);
		if (d.pstats[p].error)
			printf(" (stopped: %s)", strerror(-d.pstats[p].error));
		printf("\n");
	}
	for (c = 0; c < d.consumers; c++) {
		const struct consumer_stats *st = &d.cstats[c];

		printf("consumer %u: received %" PRIu64, c, st->received);
		if (st->duplicates || st->out_of_order || st->corrupt)
			printf(" (duplicates %" PRIu64 ", out of order %" PRIu64
			       ", corrupt %" PRIu64 ")", st->duplicates,
			       st->out_of_order, st->corrupt);
		if (st->error)
			printf(" (stopped: %s)", strerror(-st->error));
		printf("\n");
	}

	printf("without a system call: %" PRIu64 " of %" PRIu64 " sends, %"
	       PRIu64 " of %" PRIu64 " receives; %" PRIu64
	       " wake-ups asked of the kernel\n", fast_sent, p_sent, fast_recv,
	       c_recv, wakes);
	ret = chan_info(d.id, &info);
	if (ret) {
		printf("FAIL: chan_info: %s\n", strerror(-ret));
		fail = 1;
	} else {
		printf("channel %" PRIu32 ": sent %" PRIu64 ", received %" PRIu64
		       ", dropped %" PRIu64 ", discarded %" PRIu64
		       ", depth %" PRIu32 ", send waits %" PRIu64
		       ", recv waits %" PRIu64 "\n", info.id,
		       (uint64_t)info.sent, (uint64_t)info.received,
		       (uint64_t)info.dropped, (uint64_t)info.discarded,
		       info.depth, (uint64_t)info.send_waits,
		       (uint64_t)info.recv_waits);
		if (info.sent != d.messages || info.received != d.messages ||
		    info.dropped || info.discarded || info.depth) {
			printf("FAIL: channel counters disagree with %" PRIu64
			       " messages sent and received\n", d.messages);
			fail = 1;
		}
	}
	ret = chan_destroy(d.id);
	if (ret) {
		printf("FAIL: chan_destroy: %s\n", strerror(-ret));
		fail = 1;
	}

	if (failed_children) {
		printf("FAIL: %u child processes failed\n", failed_children);
		fail = 1;
	}
	if (p_sent != d.messages || c_recv != d.messages) {
		printf("FAIL: %" PRIu64 " messages, %" PRIu64 " sent, %" PRIu64
		       " received\n", d.messages, p_sent, c_recv);
		fail = 1;
	}
	if (missing || dups || order || corrupt) {
		printf("FAIL: %" PRIu64 " missing, %" PRIu64 " duplicated, %"
		       PRIu64 " out of order, %" PRIu64 " corrupt\n",
		       missing, dups, order, corrupt);
		fail = 1;
	}
	if (fail)
		return 1;
	printf("OK: every message arrived exactly once, in per-producer order\n");
	return 0;
}
