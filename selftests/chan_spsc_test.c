// SPDX-License-Identifier: GPL-2.0
/*
 * CHAN_CREATE_SPSC: one sender and one receiver endpoint, used through
 * those two (a second endpoint of a role, and messages by ID, are EBUSY),
 * and with CHAN_CREATE_MAPPABLE a compact ring (kmod/chan_spsc_ring.h,
 * CHAN_RING_VERSION_SPSC) that libchan's fast path and the kernel's paths
 * run. Checked here:
 *  - the compact ring's geometry (CREATE's out_ring, the header, the
 *    feature bit), with and without CRC32C;
 *  - the EBUSY rules: endpoints by role (an RW endpoint is both parties,
 *    a closed one frees its role), SEND/RECV/batches/CALL by ID (after
 *    the permission: EACCES first), what still works by ID;
 *  - CREATE's feature bit, INFO's chan_flags, an unknown CREATE bit;
 *  - exactly-once, in-order transfer through the kernel (ioctl, rw), the
 *    fast path, and fast and kernel paths mixed on the same endpoints
 *    with a small ring so that both sides sleep in the kernel;
 *  - poll woken by a fast-path send;
 *  - a kernel waiter's barrier on the mappers' CPUs (the fast path has
 *    none of its own): it reaches the CPU a mapper runs on, and only the
 *    CPUs of the mappers' address spaces;
 *  - a mapped producer and a mapped consumer killed mid-stream: the rest
 *    of the stream arrives exactly once, in order, the counts balance and
 *    nothing is dropped (the SPSC protocol stores nothing before its slot
 *    is published or released), a new endpoint takes the role over;
 *  - a byte-exact stream of varying lengths, fast and kernel paths mixed,
 *    with and without CRC32C, and with libchan's inline views
 *    (chan_ep_spsc()) mixed in, the handles counting what they moved;
 *  - a hostile mapper writing anything into the cursors, the lengths and
 *    the payloads: the kernel's calls return (bounded errors only), INFO
 *    stays within the capacity, and unmapping ends;
 *  - an unprivileged uid: the same rules, and its own compact ring used
 *    through a handle and its inline views.
 */
#define CT_WANT_RING
#include "chan_test_util.h"
#include "chan_spsc_ring.h"
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <libchan.h>

#define WAIT_MS		30000
#define MSG		8U
#define RW		(CHAN_ROLE_SEND | CHAN_ROLE_RECV)
#define STREAM_N	20000ULL
#define KILL_N		1500U

FIXTURE(sp) {
	int dev;
	uint32_t id;		/* SPSC, 16 slots, mode 0666, not mappable */
	uint32_t mid;		/* SPSC | MAPPABLE, 8 slots, mode 0600 */
	uint32_t plain;		/* an ordinary channel */
	mode_t dev_mode;
	pid_t pid[2];
};

FIXTURE_SETUP(sp)
{
	ASSERT_OK(ct_reports_init());
	self->dev = ct_dev_open();
	ASSERT_LE(0, self->dev);
	ASSERT_OK(ct_create(self->dev, MSG, 16, 0666, CHAN_CREATE_SPSC, 0,
			    NULL, &self->id));
	ASSERT_OK(ct_create(self->dev, MSG, 8, 0600,
			    CHAN_CREATE_SPSC | CHAN_CREATE_MAPPABLE, 0, NULL,
			    &self->mid));
	ASSERT_OK(ct_create(self->dev, MSG, 16, 0666, 0, 0, NULL,
			    &self->plain));
	self->dev_mode = ct_dev_allow_all();
}

FIXTURE_TEARDOWN(sp)
{
	ct_reap_all(self->pid, 2);
	ct_dev_restore(self->dev_mode);
	ct_destroy(self->dev, self->id);
	ct_destroy(self->dev, self->mid);
	ct_destroy(self->dev, self->plain);
	close(self->dev);
}

TEST_F(sp, create_and_info)
{
	struct chan_create c;
	struct chan_info info;

	memset(&c, 0, sizeof(c));
	c.flags = CHAN_CREATE_SPSC | CHAN_CREATE_CRC32C |
		  CHAN_CREATE_AUTODESTROY;
	c.msg_size = MSG;
	c.capacity = 2;
	ASSERT_OK(ct_create_raw(self->dev, &c));
	EXPECT_NE(0ULL, c.out_features & CHAN_FEAT_SPSC);
	EXPECT_OK(ct_destroy(self->dev, c.out_id));
	/* A CREATE bit this module does not know is EOPNOTSUPP. */
	memset(&c, 0, sizeof(c));
	c.flags = CHAN_CREATE_SPSC | (1U << 31);
	c.msg_size = MSG;
	c.capacity = 2;
	EXPECT_ERRNO(EOPNOTSUPP, ct_create_raw(self->dev, &c));
	/* Another mode with it is EINVAL: one mode per channel. */
	c.flags = CHAN_CREATE_SPSC | CHAN_CREATE_BROADCAST;
	EXPECT_ERRNO(EINVAL, ct_create_raw(self->dev, &c));
	c.flags = CHAN_CREATE_SPSC | CHAN_CREATE_STREAM;
	EXPECT_ERRNO(EINVAL, ct_create_raw(self->dev, &c));
	ASSERT_OK(ct_info(self->dev, self->id, 0, &info));
	EXPECT_EQ(CHAN_CREATE_SPSC, info.chan_flags);
	ASSERT_OK(ct_info(self->dev, self->mid, 0, &info));
	EXPECT_EQ(CHAN_CREATE_SPSC | CHAN_CREATE_MAPPABLE, info.chan_flags);
}

/* One endpoint per role; an RW endpoint is both; closing frees the role. */
TEST_F(sp, endpoints_ebusy)
{
	struct chan_info info;
	int s, r, x;

	s = ct_open(self->dev, self->id, CHAN_ROLE_SEND, 0, 0);
	ASSERT_LE(0, s);
	EXPECT_ERRNO(EBUSY, ct_open(self->dev, self->id, CHAN_ROLE_SEND, 0, 0));
	EXPECT_ERRNO(EBUSY, ct_open(self->dev, self->id, RW, 0, 0));
	r = ct_open(self->dev, self->id, CHAN_ROLE_RECV, 0, 0);
	ASSERT_LE(0, r);
	EXPECT_ERRNO(EBUSY, ct_open(self->dev, self->id, CHAN_ROLE_RECV, 0, 0));
	ASSERT_OK(ct_info(self->dev, self->id, 0, &info));
	EXPECT_EQ(1U, info.senders);
	EXPECT_EQ(1U, info.receivers);
	close(s);
	s = ct_open(self->dev, self->id, CHAN_ROLE_SEND, 0, 0);
	ASSERT_LE(0, s);
	close(s);
	close(r);
	/* Both roles in one endpoint: nobody else. */
	x = ct_open(self->dev, self->id, RW, 0, 0);
	ASSERT_LE(0, x);
	EXPECT_ERRNO(EBUSY, ct_open(self->dev, self->id, CHAN_ROLE_SEND, 0, 0));
	EXPECT_ERRNO(EBUSY, ct_open(self->dev, self->id, CHAN_ROLE_RECV, 0, 0));
	ASSERT_OK(ct_send_u64(x, 0, 7, 0));
	close(x);
	/* An ordinary channel has no such limit. */
	s = ct_open(self->dev, self->plain, CHAN_ROLE_SEND, 0, 0);
	x = ct_open(self->dev, self->plain, CHAN_ROLE_SEND, 0, 0);
	EXPECT_LE(0, s);
	EXPECT_LE(0, x);
	close(s);
	close(x);
}

/* Messages by ID would be a third party: EBUSY. The rest works by ID. */
TEST_F(sp, by_id_ebusy)
{
	uint64_t v = 1, rbuf = 0;
	struct chan_iov iov = { .buf = (uintptr_t)&v, .len = sizeof(v) };
	struct chan_batch b;
	struct chan_call call;
	struct chan_info info;
	uint32_t len = sizeof(v);
	int s, r;

	ASSERT_OK(ct_open_pair(self->dev, self->id, &s, &r));
	ASSERT_OK(ct_send_u64(s, 0, 1, 0));
	EXPECT_ERRNO(EBUSY, ct_send(self->dev, self->id, &v, sizeof(v),
				    CHAN_MSG_NONBLOCK, 0));
	EXPECT_ERRNO(EBUSY, ct_recv(self->dev, self->id, &v, &len,
				    CHAN_MSG_NONBLOCK, 0));
	memset(&b, 0, sizeof(b));
	b.size = sizeof(b);
	b.id = self->id;
	b.count = 1;
	b.vec = (uintptr_t)&iov;
	EXPECT_ERRNO(EBUSY, ioctl(self->dev, CHAN_IOC_SEND_BATCH, &b));
	EXPECT_ERRNO(EBUSY, ioctl(self->dev, CHAN_IOC_RECV_BATCH, &b));
	/* CALL by ID: the request's channel, or the reply's. */
	memset(&call, 0, sizeof(call));
	call.size = sizeof(call);
	call.id = self->id;
	call.reply_id = self->plain;
	call.reply_fd = -1;
	call.send_len = sizeof(v);
	call.send_buf = (uintptr_t)&v;
	call.recv_buf = (uintptr_t)&rbuf;
	call.recv_len = sizeof(rbuf);
	EXPECT_ERRNO(EBUSY, ioctl(self->dev, CHAN_IOC_CALL, &call));
	EXPECT_EQ(0U, call.out_sent);
	call.id = self->plain;
	call.reply_id = self->id;
	EXPECT_ERRNO(EBUSY, ioctl(self->dev, CHAN_IOC_CALL, &call));
	EXPECT_EQ(0U, call.out_sent);
	/* Nothing by ID moved a message; INFO, WAKE, CLOSE by ID work. */
	ASSERT_OK(ct_info(self->dev, self->id, 0, &info));
	EXPECT_EQ(1U, info.depth);
	EXPECT_EQ(1ULL, info.sent);
	EXPECT_OK(ct_wake(self->dev, self->id, RW, 0));
	/* CALL on the endpoints is theirs to make: sends 2, takes 1. */
	memset(&call, 0, sizeof(call));
	call.size = sizeof(call);
	call.reply_fd = r;
	call.send_len = sizeof(v);
	call.send_buf = (uintptr_t)&v;
	call.recv_buf = (uintptr_t)&rbuf;
	call.recv_len = sizeof(rbuf);
	v = 2;
	ASSERT_OK(ioctl(s, CHAN_IOC_CALL, &call));
	EXPECT_EQ(1U, call.out_sent);
	EXPECT_EQ(1U, rbuf);
	ASSERT_OK(ct_recv_u64(r, 0, &v, CHAN_MSG_NONBLOCK));
	EXPECT_EQ(2U, v);
	EXPECT_OK(chan_close_channel(self->dev, self->id, 0));
	EXPECT_OK(chan_close_channel(self->dev, self->id, CHAN_CLOSE_REOPEN));
	close(s);
	close(r);
}

/* Through the kernel: ioctl and read/write, exactly once, in order. */
TEST_F(sp, kernel_paths_in_order)
{
	uint64_t i, v;
	int s, r;

	ASSERT_OK(ct_open_pair(self->dev, self->id, &s, &r));
	for (i = 0; i < 1000; i++) {
		if (i % 2)
			ASSERT_OK(ct_send_u64(s, 0, i, 0));
		else
			ASSERT_EQ((ssize_t)sizeof(i), write(s, &i, sizeof(i)));
		if (i % 3)
			ASSERT_OK(ct_recv_u64(r, 0, &v, 0));
		else
			ASSERT_EQ((ssize_t)sizeof(v), read(r, &v, sizeof(v)));
		ASSERT_EQ(i, v);
	}
	EXPECT_ERRNO(EAGAIN, ct_recv_u64(r, 0, &v, CHAN_MSG_NONBLOCK));
	close(s);
	close(r);
}

struct sp_stream {
	uint32_t id;
	uint64_t n;
	bool mixed;	/* every third message through the endpoint's fd */
	int err;
	uint64_t bad;	/* the receiver's first out-of-order value + 1 */
	uint64_t at;	/* where the receiver failed */
	struct chan_ep *tx;	/* the sender's, opened before the receiver runs */
	volatile uint64_t sent_at;
	struct chan_ep_stats st;
};

static void *sp_sender(void *arg)
{
	struct sp_stream *x = arg;
	struct chan_ep *ep = x->tx;
	uint64_t i;

	for (i = 0; i < x->n && !x->err; i++) {
		x->sent_at = i;
		if (x->mixed && i % 3 == 1) {
			struct pollfd p = { .fd = chan_ep_fd(ep),
					    .events = POLLOUT };

			if (poll(&p, 1, 10000) != 1)
				x->err = -ETIMEDOUT;
			else if (write(chan_ep_fd(ep), &i, sizeof(i)) !=
				 sizeof(i))
				x->err = -errno;
		} else {
			x->err = chan_ep_send_timeout(ep, &i, sizeof(i),
						      10000000000ULL);
		}
	}
	chan_ep_get_stats(ep, &x->st, sizeof(x->st));
	chan_ep_close(ep);
	return NULL;
}

static void sp_receive(struct sp_stream *x, struct chan_ep *ep)
{
	uint64_t i, v = 0;
	ssize_t n;

	for (i = 0; i < x->n; i++) {
		if (x->mixed && i % 4 == 2) {
			struct pollfd p = { .fd = chan_ep_fd(ep),
					    .events = POLLIN };

			if (poll(&p, 1, 10000) != 1) {
				n = -ETIMEDOUT;
			} else {
				n = read(chan_ep_fd(ep), &v, sizeof(v));
				if (n < 0)
					n = -errno;
			}
		} else {
			n = chan_ep_recv_timeout(ep, &v, sizeof(v),
						 10000000000ULL);
		}
		if (n != sizeof(v)) {
			x->err = n < 0 ? (int)n : -EIO;
			x->at = i;
			return;
		}
		if (v != i && !x->bad)
			x->bad = i + 1;
	}
}

/*
 * A stream through the fast path (8 slots: both sides keep meeting a full
 * or empty ring and sleep in the kernel), then the same with every third
 * send by write(2) and every fourth receive by read(2) on the same
 * endpoints.
 */
TEST_F_TIMEOUT(sp, stream_fast_and_mixed, 600)
{
	int pass;

	uint32_t mpmc;

	/* Passes 2 and 3: the same on an ordinary mappable channel. */
	ASSERT_OK(ct_create(self->dev, MSG, 8, 0600, CHAN_CREATE_MAPPABLE, 0,
			    NULL, &mpmc));
	for (pass = 0; pass < 4; pass++) {
		struct sp_stream x = { .id = pass < 2 ? self->mid : mpmc,
				       .n = STREAM_N, .mixed = pass & 1 };
		struct chan_ep_stats rs;
		struct chan_info info;
		struct chan_ep *rx;
		pthread_t t;

		uint64_t t0 = ct_now_ns();

		/*
		 * Both endpoints first: a receiver that finds no sender
		 * endpoint (the last one closed in the previous pass) and an
		 * empty ring gets EPIPE.
		 */
		ASSERT_OK(chan_ep_open(&rx, x.id, CHAN_ROLE_RECV, 0));
		ASSERT_EQ(1, chan_ep_mapped(rx));
		ASSERT_OK(chan_ep_open(&x.tx, x.id, CHAN_ROLE_SEND, 0));
		ASSERT_EQ(1, chan_ep_mapped(x.tx));
		ASSERT_OK(pthread_create(&t, NULL, sp_sender, &x));
		sp_receive(&x, rx);
		pthread_join(t, NULL);
		TH_LOG("pass %d: %llu messages in %.2f s", pass,
		       (unsigned long long)STREAM_N,
		       (ct_now_ns() - t0) / 1e9);
		EXPECT_OK(x.err);
		if (x.err) {
			struct chan_info ii;

			ct_info(self->dev, x.id, 0, &ii);
			TH_LOG("pass %d: failed at %llu (sender at %llu); depth %u sent %llu received %llu",
			       pass, (unsigned long long)x.at,
			       (unsigned long long)x.sent_at, ii.depth,
			       (unsigned long long)ii.sent,
			       (unsigned long long)ii.received);
		}
		EXPECT_EQ(0ULL, x.bad) TH_LOG("pass %d: message %llu out of order",
					      pass, (unsigned long long)x.bad - 1);
		ASSERT_OK(chan_ep_get_stats(rx, &rs, sizeof(rs)));
		EXPECT_EQ(STREAM_N, x.st.fast_sent + x.st.kernel_sent +
			  (x.mixed ? STREAM_N / 3 + (STREAM_N % 3 > 1) : 0));
		EXPECT_LT(0ULL, x.st.fast_sent);
		EXPECT_LT(0ULL, rs.fast_received);
		ASSERT_OK(ct_info(self->dev, x.id, 0, &info));
		EXPECT_EQ(0U, info.depth);
		EXPECT_EQ(0ULL, info.dropped);
		EXPECT_EQ((pass % 2 + 1) * STREAM_N, info.sent);
		EXPECT_TRUE(ct_info_balanced(&info)) CT_LOG_INFO("stream", &info);
		EXPECT_OK(chan_ep_close(rx));
	}
	EXPECT_OK(ct_destroy(self->dev, mpmc));
}

/* A poller of the receiver wakes for a fast-path send. */
TEST_F(sp, poll_wakes_for_fast_send)
{
	struct pollfd p;
	struct chan_ep *tx, *rx;
	uint64_t v = 42;
	pid_t pid;

	ASSERT_OK(chan_ep_open(&rx, self->mid, CHAN_ROLE_RECV, 0));
	p.fd = chan_ep_fd(rx);
	p.events = POLLIN;
	ASSERT_EQ(0, poll(&p, 1, 0));
	pid = ct_fork_slot(0);
	ASSERT_LE(0, pid);
	if (pid == 0) {
		ct_sleep_ms(200);
		CF_TRUE(!chan_ep_open(&tx, self->mid, CHAN_ROLE_SEND, 0), "open");
		CF_TRUE(chan_ep_mapped(tx) == 1, "mapped");
		CF_TRUE(!chan_ep_send(tx, &v, sizeof(v)), "send");
		_exit(0);
	}
	self->pid[0] = pid;
	ASSERT_EQ(1, poll(&p, 1, WAIT_MS));
	EXPECT_TRUE(p.revents & POLLIN);
	EXPECT_EQ(0, CT_CHILD(&self->pid[0], 0, WAIT_MS, "sender"));
	v = 0;
	EXPECT_EQ((ssize_t)sizeof(v), chan_ep_try_recv(rx, &v, sizeof(v)));
	EXPECT_EQ(42U, v);
	EXPECT_OK(chan_ep_close(rx));
}

/*
 * The function-call IPIs one CPU took so far (x86's "CAL" line of
 * /proc/interrupts has a column per online CPU), or -1.
 */
static long long call_ipis(int cpu)
{
	char line[4096], *p, *end;
	long long v = -1;
	FILE *f = fopen("/proc/interrupts", "r");
	int i;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		p = line + strspn(line, " ");
		if (strncmp(p, "CAL:", 4))
			continue;
		for (p += 4, i = 0; i <= cpu; i++, p = end) {
			v = strtoll(p, &end, 10);
			if (end == p) {
				v = -1;
				break;
			}
		}
		break;
	}
	fclose(f);
	return v;
}

/* Run the caller on @cpu only; 0 or -errno. */
static int pin_to(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
}

/* Fork a child that starts on @cpu and stays there (ct_fork_slot()). */
static pid_t fork_on(int slot, int cpu)
{
	cpu_set_t all;
	pid_t pid;

	if (sched_getaffinity(0, sizeof(all), &all) || pin_to(cpu))
		return -1;
	pid = ct_fork_slot(slot);
	if (pid)
		sched_setaffinity(0, sizeof(all), &all);
	return pid;
}

/*
 * Time out @n receives of @rx, 1 ms each, and return the function-call
 * IPIs CPU @cpu took meanwhile, or -1 if a receive did not time out.
 * Each wait fences once; a test asks for at least 3/4 of them, since a
 * mapper switched out for a moment (nothing else of its address space
 * on that CPU) needs no IPI, and 0 without the fence.
 */
static long long ipis_during_waits(struct chan_ep *rx, int cpu, int n)
{
	long long before = call_ipis(cpu);
	uint64_t v;
	int i;

	for (i = 0; i < n; i++)
		if (chan_ep_recv_timeout(rx, &v, sizeof(v), 1000000) !=
		    -ETIMEDOUT)
			return -1;
	return call_ipis(cpu) - before;
}

/* A child's end: say it runs, then spin on its CPU until told to stop. */
static void __attribute__((noreturn)) spin_until_told(volatile uint64_t *go)
{
	__atomic_store_n(go, 1, __ATOMIC_RELEASE);
	while (__atomic_load_n(go, __ATOMIC_ACQUIRE) == 1)
		;
	_exit(0);
}

/* The parent's side: move to CPU 1 once the child spins. */
static int await_spinner(volatile uint64_t *go)
{
	while (!__atomic_load_n(go, __ATOMIC_ACQUIRE))
		ct_sleep_ms(1);
	return pin_to(1);
}

/*
 * A compact ring's fast path issues no barrier before it reads the count
 * of waiters, so a kernel waiter that finds the ring empty has the CPUs
 * running a mapper execute one (map.c). Here the sender's process maps
 * the ring and spins on CPU 0 while a receiver on CPU 1 times out 200
 * times: CPU 0 takes a function-call IPI for each wait.
 */
TEST_F_TIMEOUT(sp, sleeper_fences_mapper_cpu, 300)
{
	volatile uint64_t *go = ct_shared_alloc(sizeof(uint64_t));
	long long ipis;
	struct chan_ep *tx, *rx;
	pid_t pid;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2 || call_ipis(1) < 0)
		SKIP(return, "needs 2 CPUs and a CAL line in /proc/interrupts");
	ASSERT_NE(NULL, go);
	ASSERT_OK(chan_ep_open(&rx, self->mid, CHAN_ROLE_RECV, CHAN_EP_NO_MAP));
	pid = fork_on(0, 0);
	ASSERT_LE(0, pid);
	if (pid == 0) {
		CF_TRUE(!chan_ep_open(&tx, self->mid, CHAN_ROLE_SEND, 0),
			"open");
		CF_TRUE(chan_ep_mapped(tx) == 1, "mapped");
		/* Stay on CPU 0, running the mapper's address space. */
		spin_until_told(go);
	}
	self->pid[0] = pid;
	ASSERT_OK(await_spinner(go));
	ipis = ipis_during_waits(rx, 0, 200);
	__atomic_store_n(go, 2, __ATOMIC_RELEASE);
	EXPECT_LE(150, ipis)
		TH_LOG("%lld call IPIs to the mapper's CPU during 200 waits",
		       ipis);
	EXPECT_EQ(0, CT_CHILD(&self->pid[0], 0, WAIT_MS, "mapper"));
	EXPECT_OK(chan_ep_close(rx));
}

/*
 * A copy of the mapping that fork() makes once MADV_DOFORK cleared
 * VM_DONTCOPY is a mapper too, in an address space of its own: the
 * waiter's barrier reaches its CPU, also once the parent's own mapping is
 * gone. (Before, the copy was not recorded: its CPU took no IPI, and a
 * fast path running there could leave a waiter asleep beside a message.)
 */
TEST_F_TIMEOUT(sp, sleeper_fences_forked_copy, 300)
{
	volatile uint64_t *go = ct_shared_alloc(sizeof(uint64_t));
	size_t size = (CHAN_RING_HDR_SIZE + chan_spsc_ring_size(8, MSG) +
		       4095) & ~(size_t)4095;
	long long ipis;
	struct chan_ep *tx, *rx;
	void *map;
	pid_t pid;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2 || call_ipis(1) < 0)
		SKIP(return, "needs 2 CPUs and a CAL line in /proc/interrupts");
	ASSERT_NE(NULL, go);
	ASSERT_OK(chan_ep_open(&tx, self->mid, CHAN_ROLE_SEND, CHAN_EP_NO_MAP));
	ASSERT_OK(chan_ep_open(&rx, self->mid, CHAN_ROLE_RECV, CHAN_EP_NO_MAP));
	map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
		   chan_ep_fd(tx), 0);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_OK(madvise(map, size, MADV_DOFORK));
	pid = fork_on(0, 0);
	ASSERT_LE(0, pid);
	if (pid == 0)
		spin_until_told(go);	/* on CPU 0, with the copy */
	self->pid[0] = pid;
	/* Only the child's copy maps the ring now. */
	ASSERT_OK(munmap(map, size));
	ASSERT_OK(await_spinner(go));
	ipis = ipis_during_waits(rx, 0, 200);
	__atomic_store_n(go, 2, __ATOMIC_RELEASE);
	EXPECT_LE(150, ipis)
		TH_LOG("%lld call IPIs to the forked copy's CPU during 200 waits",
		       ipis);
	EXPECT_EQ(0, CT_CHILD(&self->pid[0], 0, WAIT_MS, "copy"));
	EXPECT_OK(chan_ep_close(rx));
	EXPECT_OK(chan_ep_close(tx));
}

/*
 * That barrier reaches only the CPUs of the mappers' address spaces, not
 * every CPU: a process that maps the ring and waits on CPU 0, 200 times,
 * interrupts CPU 1 (which its address space never ran on) hardly at all.
 * (A version that sent every CPU an IPI at each sleep let any user
 * interrupt the whole machine at its system-call rate.)
 */
TEST_F_TIMEOUT(sp, sleeper_fences_no_other_cpu, 300)
{
	struct chan_ep *rx;
	long long ipis;
	pid_t pid;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2 || call_ipis(1) < 0)
		SKIP(return, "needs 2 CPUs and a CAL line in /proc/interrupts");
	pid = fork_on(0, 0);
	ASSERT_LE(0, pid);
	if (pid == 0) {
		CF_TRUE(!chan_ep_open(&rx, self->mid, CHAN_ROLE_RECV, 0),
			"open");
		CF_TRUE(chan_ep_mapped(rx) == 1, "mapped");
		ipis = ipis_during_waits(rx, 1, 200);
		CF_TRUE(ipis >= 0, "timed out");
		/* Other work of the kernel sends a few; 200 waits no more. */
		CF_TRUE(ipis < 50, "%lld IPIs to CPU 1", ipis);
		_exit(0);
	}
	self->pid[0] = pid;
	EXPECT_EQ(0, CT_CHILD(&self->pid[0], 0, WAIT_MS, "waiter"));
}

/*
 * A mapped producer killed while it streams: what it published arrives in
 * order, nothing is dropped or counted twice, and a new producer goes on.
 */
TEST_F(sp, killed_producer)
{
	volatile uint64_t *sent = ct_shared_alloc(sizeof(uint64_t));
	struct chan_info info;
	struct chan_ep *rx, *tx;
	uint64_t want = 0, v;
	ssize_t n;
	pid_t pid;
	int round;

	ASSERT_NE(NULL, sent);
	*sent = 0;
	ASSERT_OK(chan_ep_open(&rx, self->mid, CHAN_ROLE_RECV, 0));
	pid = ct_fork_slot(0);
	ASSERT_LE(0, pid);
	if (pid == 0) {
		uint64_t i;

		CF_TRUE(!chan_ep_open(&tx, self->mid, CHAN_ROLE_SEND, 0), "open");
		CF_TRUE(chan_ep_mapped(tx) == 1, "mapped");
		for (i = 0;; i++) {
			while (chan_ep_try_send(tx, &i, sizeof(i)) == -EAGAIN)
				;
			*sent = i + 1;
		}
	}
	self->pid[0] = pid;
	/* Take some, then kill it mid-stream (it spins on a full ring too). */
	for (round = 0; round < 3000; round++) {
		n = chan_ep_recv_timeout(rx, &v, sizeof(v), 5000000000ULL);
		ASSERT_EQ((ssize_t)sizeof(v), n);
		ASSERT_EQ(want, v);
		want++;
	}
	kill(pid, SIGKILL);
	EXPECT_EQ(128 + SIGKILL, ct_reap(&self->pid[0], WAIT_MS));
	/* The rest of what it published, in order. */
	while ((n = chan_ep_try_recv(rx, &v, sizeof(v))) == sizeof(v)) {
		ASSERT_EQ(want, v);
		want++;
	}
	EXPECT_EQ(-EPIPE, n);
	EXPECT_LE(*sent, want);
	EXPECT_LE(want, *sent + 1);
	ASSERT_OK(ct_info(self->dev, self->mid, 0, &info));
	EXPECT_EQ(want, info.sent);
	EXPECT_EQ(want, info.received);
	EXPECT_EQ(0ULL, info.dropped);
	EXPECT_EQ(0U, info.depth);
	EXPECT_EQ(1U, info.mappers);
	/* A new producer takes over the role. */
	ASSERT_OK(chan_ep_open(&tx, self->mid, CHAN_ROLE_SEND, 0));
	ASSERT_OK(chan_ep_send(tx, &want, sizeof(want)));
	EXPECT_EQ((ssize_t)sizeof(v), chan_ep_try_recv(rx, &v, sizeof(v)));
	EXPECT_EQ(want, v);
	EXPECT_OK(chan_ep_close(tx));
	EXPECT_OK(chan_ep_close(rx));
}

/*
 * A mapped consumer killed while it takes a stream: the next consumer
 * goes on where it stopped (at most the one message the dead one took and
 * had no time to note), in order, and nothing is dropped.
 */
TEST_F(sp, killed_consumer)
{
	volatile uint64_t *got = ct_shared_alloc(sizeof(uint64_t));
	struct chan_info info;
	struct chan_ep *rx, *tx;
	uint64_t i, v;
	ssize_t n;
	pid_t pid;

	ASSERT_NE(NULL, got);
	*got = 0;
	ASSERT_OK(chan_ep_open(&tx, self->mid, CHAN_ROLE_SEND, 0));
	ASSERT_EQ(1, chan_ep_mapped(tx));
	pid = ct_fork_slot(0);
	ASSERT_LE(0, pid);
	if (pid == 0) {
		chan_ep_close(tx);
		CF_TRUE(!chan_ep_open(&rx, self->mid, CHAN_ROLE_RECV, 0), "open");
		CF_TRUE(chan_ep_mapped(rx) == 1, "mapped");
		for (i = 0;; i++) {
			do
				n = chan_ep_try_recv(rx, &v, sizeof(v));
			while (n == -EAGAIN);
			CF_TRUE(n == sizeof(v) && v == i, "got %llu, want %llu",
				(unsigned long long)v, (unsigned long long)i);
			*got = i + 1;
		}
	}
	self->pid[0] = pid;
	/* The ring holds 8: most of these wait for the consumer. */
	for (i = 0; i < KILL_N; i++)
		ASSERT_OK(chan_ep_send_timeout(tx, &i, sizeof(i),
					       5000000000ULL));
	kill(pid, SIGKILL);
	EXPECT_EQ(128 + SIGKILL, ct_reap(&self->pid[0], WAIT_MS));
	ASSERT_OK(chan_ep_open(&rx, self->mid, CHAN_ROLE_RECV, 0));
	ASSERT_EQ(1, chan_ep_mapped(rx));
	i = *got;
	n = chan_ep_try_recv(rx, &v, sizeof(v));
	if (n == sizeof(v)) {
		/* Taken and killed before it noted it: counted received. */
		if (v == i + 1)
			i++;
		for (; n == sizeof(v); n = chan_ep_try_recv(rx, &v, sizeof(v)))
			ASSERT_EQ(i++, v);
	}
	EXPECT_EQ(-EAGAIN, n);
	/*
	 * The last send returned once the ring had room: up to its 8
	 * messages may still have been there at the kill (a slow kernel's
	 * consumer lags), and one more taken but not noted.
	 */
	EXPECT_LE(KILL_N - 8 - 1, *got);
	EXPECT_EQ(KILL_N, i);
	ASSERT_OK(ct_info(self->dev, self->mid, 0, &info));
	EXPECT_EQ(KILL_N, info.sent);
	EXPECT_EQ(KILL_N, info.received);
	EXPECT_EQ(0ULL, info.dropped);
	EXPECT_EQ(0U, info.depth);
	EXPECT_EQ(2U, info.mappers);
	EXPECT_OK(chan_ep_close(tx));
	EXPECT_OK(chan_ep_close(rx));
}

/*
 * A hostile mapper (the channel's one RW endpoint) writes anything into
 * the cursors, the slots' lengths and reserved words and the payloads of
 * the compact ring between the kernel's calls: every call returns with
 * success or a bounded error (EAGAIN, EIO; never EFAULT or a hang), INFO
 * stays within the capacity, and unmapping ends. Each outcome is reached.
 * (Before the compact ring this wrote slot state words; there are none.)
 * With CRC32C too: the kernel checks its own copy, so scribbled payloads
 * are skipped and counted corrupt, never returned.
 */
static void sp_hostile(struct __test_metadata *_metadata, int dev,
		       uint32_t flags)
{
	uint32_t crc = flags & CHAN_CREATE_CRC32C ? CHAN_CRC_SIZE : 0;
	struct chan_create c;
	struct chan_info info;
	struct ct_ring r;
	uint64_t seed = 0x5eed, v, buf[4];
	uint32_t token = 0, id, len, i, k;
	unsigned int ok_send = 0, ok_recv = 0, eagain = 0, eio = 0;
	struct pollfd p;
	int fd, ret;

	ASSERT_OK(ct_create_mappable(dev, MSG, 8, 0600,
				     CHAN_CREATE_SPSC | flags, &id, &c));
	ASSERT_EQ(chan_spsc_ring_stride(MSG + crc), c.out_ring.slot_size);
	fd = ct_open_token(dev, id, RW, CHAN_OPEN_NONBLOCK, &token);
	ASSERT_LE(0, fd);
	ASSERT_OK(ct_ring_map(fd, &c.out_ring, token, &r));
	ASSERT_EQ((uint32_t)CHAN_RING_VERSION_SPSC, r.v.hdr->version);
	for (i = 0; i < 4000; i++) {
		uint32_t idx = ct_rand(&seed) & r.v.mask;
		uint32_t *lenp = (uint32_t *)r.v.slots + idx;
		unsigned char *data = r.v.slots + CHAN_SPSC_LENS_BYTES(8) +
				      idx * r.v.slot_size;

		switch (ct_rand(&seed) % 6) {
		case 0:
			r.v.hdr->tail = ct_rand(&seed);
			break;
		case 1:
			r.v.hdr->head = ct_rand(&seed);
			break;
		case 2:
			/* Huge, or within the message size. */
			*lenp = (uint32_t)ct_rand(&seed) >> (i & 1 ? 0 : 26);
			break;
		case 3:
			memset(data, (int)ct_rand(&seed), MSG + crc);
			break;
		case 4:
			/* Plausible: near each other (up to 11 apart, of 8). */
			r.v.hdr->head = r.v.hdr->tail - (ct_rand(&seed) % 12);
			break;
		default:
			break;
		}
		for (k = 0; k < 3; k++) {
			v = i;
			ret = ct_send(fd, 0, &v, sizeof(v), CHAN_MSG_NONBLOCK, 0);
			if (!ret)
				ok_send++;
			else if (errno == EAGAIN)
				eagain++;
			else if (errno == EIO)
				eio++;
			else
				ASSERT_EQ(0, errno) TH_LOG("send: %s", strerror(errno));
			len = sizeof(buf);
			ret = ct_recv(fd, 0, buf, &len, CHAN_MSG_NONBLOCK, 0);
			if (!ret) {
				ok_recv++;
				ASSERT_GE(MSG, len);
				/* Checked: only a message that was sent. */
				if (crc) {
					ASSERT_EQ(sizeof(v), len);
					ASSERT_GE(i, buf[0]);
				}
			} else if (errno == EAGAIN) {
				eagain++;
			} else if (errno == EIO) {
				eio++;
			} else {
				ASSERT_EQ(0, errno) TH_LOG("recv: %s", strerror(errno));
			}
		}
		p.fd = fd;
		p.events = POLLIN | POLLOUT;
		poll(&p, 1, 0);
		ASSERT_OK(ct_info(fd, 0, 0, &info));
		ASSERT_GE(8U, info.depth);
		ASSERT_GE(8U, info.max_depth);
	}
	TH_LOG("flags %#x: sent %u, received %u, EAGAIN %u, EIO %u, corrupt %llu",
	       flags, ok_send, ok_recv, eagain, eio,
	       (unsigned long long)info.corrupt);
	EXPECT_LT(0U, ok_send);
	EXPECT_LT(0U, ok_recv);
	EXPECT_LT(0U, eagain);
	EXPECT_LT(0U, eio);
	if (crc)
		EXPECT_LT(0ULL, info.corrupt);
	ct_ring_unmap(&r);
	ASSERT_OK(ct_info(fd, 0, 0, &info));
	EXPECT_GE(8U, info.depth);
	close(fd);
	EXPECT_OK(ct_destroy(dev, id));
}

TEST_F(sp, hostile_mapper)
{
	sp_hostile(_metadata, self->dev, 0);
}

TEST_F(sp, hostile_mapper_crc)
{
	sp_hostile(_metadata, self->dev, CHAN_CREATE_CRC32C);
}

/*
 * The compact ring's geometry: CREATE reports the feature, the stride as
 * slot_size and a map_size of a header page, the lengths and the
 * payload slots; the mapped
 * header agrees (version CHAN_RING_VERSION_SPSC); libchan maps it. With
 * CRC32C the ring's msg_size counts the check. A channel that is not
 * mappable keeps the common ring.
 */
TEST_F(sp, compact_geometry)
{
	static const uint32_t flags[] = { 0, CHAN_CREATE_CRC32C };
	long page = sysconf(_SC_PAGESIZE);
	struct chan_create c;
	struct chan_ep *ep;
	struct ct_ring r;
	uint32_t token = 0, id, i, ring_msg;
	size_t want;
	int fd;

	for (i = 0; i < 2; i++) {
		ASSERT_OK(ct_create_mappable(self->dev, 100, 64, 0600,
					     CHAN_CREATE_SPSC | flags[i], &id,
					     &c));
		ring_msg = 100 + (flags[i] ? CHAN_CRC_SIZE : 0);
		EXPECT_NE(0ULL, c.out_features & CHAN_FEAT_SPSC_COMPACT);
		EXPECT_EQ(ring_msg, c.out_ring.msg_size);
		EXPECT_EQ((ring_msg + 7U) & ~7U, c.out_ring.slot_size);
		EXPECT_EQ(64U, c.out_ring.capacity);
		EXPECT_EQ((uint32_t)CHAN_RING_HDR_SIZE, c.out_ring.slots_offset);
		/* 64 lengths, one line each 16; then the payloads. */
		EXPECT_EQ(256U, CHAN_SPSC_LENS_BYTES(64U));
		want = CHAN_RING_HDR_SIZE + CHAN_SPSC_LENS_BYTES(64U) +
		       64 * (size_t)c.out_ring.slot_size;
		want = (want + page - 1) / page * page;
		EXPECT_EQ(want, c.out_ring.map_size);
		fd = ct_open_token(self->dev, id, RW, 0, &token);
		ASSERT_LE(0, fd);
		ASSERT_OK(ct_ring_map(fd, &c.out_ring, token, &r));
		EXPECT_EQ(CHAN_RING_MAGIC, r.v.hdr->magic);
		EXPECT_EQ((uint32_t)CHAN_RING_VERSION_SPSC, r.v.hdr->version);
		EXPECT_EQ(c.out_ring.slot_size, r.v.hdr->slot_size);
		EXPECT_EQ(ring_msg, r.v.hdr->msg_size);
		ct_ring_unmap(&r);
		close(fd);
		ASSERT_OK(chan_ep_open(&ep, id, RW, 0));
		EXPECT_EQ(1, chan_ep_mapped(ep));
		EXPECT_OK(chan_ep_close(ep));
		EXPECT_OK(ct_destroy(self->dev, id));
	}
	/* Not mappable: the common ring (nothing to see but the stride). */
	ASSERT_OK(ct_create(self->dev, 100, 64, 0600, CHAN_CREATE_SPSC, 0, NULL,
			    &id));
	EXPECT_OK(ct_destroy(self->dev, id));
}

/* Message k of a varying-length stream: its length and bytes. */
#define VAR_MAX		61U
static uint32_t var_len(uint64_t k)
{
	return (uint32_t)((k * 7 + k / 5) % VAR_MAX) + 1;
}

static void var_fill(uint64_t k, unsigned char *b, uint32_t len)
{
	uint32_t j;

	for (j = 0; j < len; j++)
		b[j] = (unsigned char)(k * 131 + j * 29 + (k >> 8));
}

struct sp_var {
	struct chan_ep *tx;
	struct chan_spsc *view;	/* or NULL: the handle's calls only */
	uint64_t n;
	int err;
	uint64_t at;
	uint64_t by_handle;	/* sends the handle (or its view) made */
};

/*
 * Every fourth send by write(2) on the endpoint's fd, the rest by libchan:
 * with a view, every fifth by the handle's call and the others inline.
 */
static void *sp_var_sender(void *arg)
{
	struct sp_var *x = arg;
	unsigned char b[VAR_MAX];
	uint64_t k;

	for (k = 0; k < x->n && !x->err; k++) {
		uint32_t len = var_len(k);

		var_fill(k, b, len);
		if (k % 4 == 3) {
			if (write(chan_ep_fd(x->tx), b, len) != (ssize_t)len)
				x->err = -errno;
		} else if (x->view && k % 5 != 4) {
			x->err = chan_spsc_send(x->view, b, len);
			x->by_handle++;
		} else {
			x->err = chan_ep_send_timeout(x->tx, b, len,
						      10000000000ULL);
			x->by_handle++;
		}
		x->at = k;
	}
	return NULL;
}

/*
 * A byte-exact stream of lengths 1..61 on a 4-slot compact ring, fast and
 * kernel paths mixed on both sides (every fourth send by write(2), every
 * third receive by read(2)), with and without CRC32C, and once more with
 * the inline fast path (chan_ep_spsc() views) mixed in on both sides:
 * each message arrives once, in order, with its exact length and bytes;
 * both fast paths were used; the handles count what they (and their
 * views) moved; INFO balances with nothing dropped.
 */
TEST_F_TIMEOUT(sp, compact_varlen_mixed, 600)
{
	static const uint32_t flags[] = { 0, CHAN_CREATE_CRC32C, 0 };
	const uint64_t n = 6000;
	unsigned char b[VAR_MAX + 8], want[VAR_MAX];
	struct chan_ep_stats ts, rs;
	struct chan_spsc vt, vr;
	struct chan_info info;
	struct chan_ep *rx;
	uint32_t id, i;
	uint64_t k, by_handle;
	pthread_t t;
	ssize_t got;

	for (i = 0; i < 3; i++) {
		struct sp_var x = { .n = n };
		bool views = i == 2;

		ASSERT_OK(ct_create(self->dev, VAR_MAX, 4, 0600,
				    CHAN_CREATE_SPSC | CHAN_CREATE_MAPPABLE |
				    flags[i], 0, NULL, &id));
		ASSERT_OK(chan_ep_open(&rx, id, CHAN_ROLE_RECV, 0));
		ASSERT_EQ(1, chan_ep_mapped(rx));
		ASSERT_OK(chan_ep_open(&x.tx, id, CHAN_ROLE_SEND, 0));
		ASSERT_EQ(1, chan_ep_mapped(x.tx));
		if (views) {
			ASSERT_EQ(1, chan_ep_spsc(x.tx, CHAN_ROLE_SEND, &vt));
			ASSERT_EQ(1, chan_ep_spsc(rx, CHAN_ROLE_RECV, &vr));
			x.view = &vt;
		}
		by_handle = 0;
		ASSERT_OK(pthread_create(&t, NULL, sp_var_sender, &x));
		for (k = 0; k < n; k++) {
			if (k % 3 == 1) {
				got = read(chan_ep_fd(rx), b, sizeof(b));
				if (got < 0)
					got = -errno;
			} else if (views && k % 4 != 3) {
				got = chan_spsc_recv(&vr, b, sizeof(b));
				by_handle++;
			} else {
				got = chan_ep_recv_timeout(rx, b, sizeof(b),
							   10000000000ULL);
				by_handle++;
			}
			if (got != (ssize_t)var_len(k))
				break;
			var_fill(k, want, var_len(k));
			if (memcmp(want, b, var_len(k)))
				break;
		}
		pthread_join(t, NULL);
		EXPECT_EQ(n, k) TH_LOG("pass %u: message %llu: got %zd, want %u",
				       i, (unsigned long long)k, got,
				       k < n ? var_len(k) : 0);
		EXPECT_EQ(0, x.err) TH_LOG("sender at %llu",
					   (unsigned long long)x.at);
		ASSERT_OK(chan_ep_get_stats(x.tx, &ts, sizeof(ts)));
		ASSERT_OK(chan_ep_get_stats(rx, &rs, sizeof(rs)));
		TH_LOG("pass %u: fast sent %llu, kernel sent %llu, fast received %llu, kernel received %llu",
		       i, (unsigned long long)ts.fast_sent,
		       (unsigned long long)ts.kernel_sent,
		       (unsigned long long)rs.fast_received,
		       (unsigned long long)rs.kernel_received);
		EXPECT_LT(0ULL, ts.fast_sent);
		EXPECT_LT(0ULL, rs.fast_received);
		/* The handle counts what it and its view moved, no more. */
		EXPECT_EQ(x.by_handle, ts.fast_sent + ts.kernel_sent);
		EXPECT_EQ(by_handle, rs.fast_received + rs.kernel_received);
		ASSERT_OK(ct_info(self->dev, id, 0, &info));
		EXPECT_EQ(n, info.sent);
		EXPECT_EQ(n, info.received);
		EXPECT_EQ(0ULL, info.dropped);
		EXPECT_EQ(0ULL, info.corrupt);
		EXPECT_EQ(0U, info.depth);
		EXPECT_LE(1U, info.max_depth);
		EXPECT_GE(4U, info.max_depth);
		EXPECT_OK(chan_ep_close(x.tx));
		EXPECT_OK(chan_ep_close(rx));
		EXPECT_OK(ct_destroy(self->dev, id));
	}
}

/*
 * Batches on a compact ring: a kernel batch (SEND_BATCH/RECV_BATCH on the
 * endpoint fds) and libchan's batches (through the mapping), each way,
 * lengths 1..8, and a batch that fills the 8-slot ring: in order, exact,
 * and INFO's depth and max_depth follow.
 */
TEST_F(sp, compact_batches)
{
	struct chan_iov vec[12];
	unsigned char out[12][MSG], in[12][MSG];
	struct chan_info info;
	struct chan_ep *tx, *rx;
	int round, j, n;

	ASSERT_OK(chan_ep_open(&rx, self->mid, CHAN_ROLE_RECV, 0));
	ASSERT_OK(chan_ep_open(&tx, self->mid, CHAN_ROLE_SEND, 0));
	ASSERT_EQ(1, chan_ep_mapped(tx));
	ASSERT_EQ(1, chan_ep_mapped(rx));
	for (round = 0; round < 4; round++) {
		for (j = 0; j < 8; j++) {
			memset(out[j], round * 16 + j, MSG);
			vec[j].buf = (uintptr_t)out[j];
			vec[j].len = (uint32_t)j % MSG + 1;
			vec[j].__reserved = 0;
		}
		/* Rounds 0 and 2: the kernel sends; 1 and 3: libchan. */
		n = round % 2 ? chan_ep_send_batch(tx, vec, 8, 0, 0) :
				chan_send_batch(chan_ep_fd(tx), 0, vec, 8, 0, 0);
		ASSERT_EQ(8, n);
		ASSERT_OK(ct_info(self->dev, self->mid, 0, &info));
		EXPECT_EQ(8U, info.depth);
		EXPECT_EQ(8U, info.max_depth);
		/* Full: one more is EAGAIN either way. */
		EXPECT_EQ(-EAGAIN, chan_ep_try_send(tx, out[0], 1));
		for (j = 0; j < 12; j++) {
			memset(in[j], 0xee, MSG);
			vec[j].buf = (uintptr_t)in[j];
			vec[j].len = MSG;
			vec[j].__reserved = 0;
		}
		/* Rounds 0 and 1: libchan receives; 2 and 3: the kernel. */
		n = round < 2 ? chan_ep_recv_batch(rx, vec, 12, CHAN_MSG_NONBLOCK,
						   0) :
				chan_recv_batch(chan_ep_fd(rx), 0, vec, 12,
						CHAN_MSG_NONBLOCK, 0);
		ASSERT_EQ(8, n) TH_LOG("round %d", round);
		for (j = 0; j < 8; j++) {
			ASSERT_EQ((uint32_t)j % MSG + 1, vec[j].len);
			ASSERT_EQ(0, memcmp(out[j], in[j], vec[j].len))
				TH_LOG("round %d message %d", round, j);
		}
		ASSERT_OK(ct_info(self->dev, self->mid, 0, &info));
		EXPECT_EQ(0U, info.depth);
	}
	EXPECT_EQ(32ULL, info.sent);
	EXPECT_EQ(32ULL, info.received);
	EXPECT_OK(chan_ep_close(tx));
	EXPECT_OK(chan_ep_close(rx));
}

/* An unprivileged uid meets the same rules; without permission, EACCES. */
TEST_F(sp, unprivileged)
{
	pid_t pid;

	pid = ct_fork_slot(0);
	ASSERT_LE(0, pid);
	if (pid == 0) {
		uint64_t v = 3, i;
		uint32_t len = sizeof(v), own;
		struct chan_spsc vt, vr;
		struct chan_ep_stats st;
		struct chan_ep *ep;
		int dev, s, r;

		close(self->dev);
		CF_TRUE(!ct_drop_privs(NULL, 0), "drop");
		dev = CF_OK(ct_dev_open());
		s = CF_OK(ct_open(dev, self->id, CHAN_ROLE_SEND, 0, 0));
		CF_ERRNO(EBUSY, ct_open(dev, self->id, CHAN_ROLE_SEND, 0, 0));
		r = CF_OK(ct_open(dev, self->id, CHAN_ROLE_RECV, 0, 0));
		CF_ERRNO(EBUSY, ct_send(dev, self->id, &v, sizeof(v),
					CHAN_MSG_NONBLOCK, 0));
		CF_OK(ct_send(s, 0, &v, sizeof(v), 0, 0));
		CF_OK(ct_recv(r, 0, &v, &len, 0, 0));
		CF_TRUE(v == 3, "v %llu", (unsigned long long)v);
		/* Root's 0600 channel: no permission comes before EBUSY. */
		CF_ERRNO(EACCES, ct_send(dev, self->mid, &v, sizeof(v),
					 CHAN_MSG_NONBLOCK, 0));
		CF_ERRNO(EACCES, ct_open(dev, self->mid, CHAN_ROLE_SEND, 0, 0));
		/* Its own SPSC channel. */
		CF_OK(ct_create(dev, MSG, 4, 0600, CHAN_CREATE_SPSC, 0, NULL,
				&own));
		close(s);
		close(r);
		s = CF_OK(ct_open(dev, own, RW, 0, 0));
		CF_ERRNO(EBUSY, ct_open(dev, own, CHAN_ROLE_RECV, 0, 0));
		close(s);
		CF_OK(ct_destroy(dev, own));
		/* Its own compact ring: mapped, and used both ways. */
		CF_OK(ct_create(dev, MSG, 4, 0600,
				CHAN_CREATE_SPSC | CHAN_CREATE_MAPPABLE, 0, NULL,
				&own));
		CF_TRUE(!chan_ep_open(&ep, own, RW, 0), "open");
		CF_TRUE(chan_ep_mapped(ep) == 1, "mapped");
		for (i = 0; i < 100; i++) {
			CF_TRUE(!chan_ep_send(ep, &i, sizeof(i)), "send %llu",
				(unsigned long long)i);
			CF_TRUE(chan_ep_recv(ep, &v, sizeof(v)) == sizeof(v) &&
				v == i, "recv %llu", (unsigned long long)i);
		}
		/* And through inline views of the same handle. */
		CF_TRUE(chan_ep_spsc(ep, CHAN_ROLE_SEND, &vt) == 1, "tx view");
		CF_TRUE(chan_ep_spsc(ep, CHAN_ROLE_RECV, &vr) == 1, "rx view");
		for (i = 0; i < 100; i++) {
			CF_TRUE(!chan_spsc_send(&vt, &i, sizeof(i)),
				"view send %llu", (unsigned long long)i);
			CF_TRUE(chan_spsc_recv(&vr, &v, sizeof(v)) ==
				sizeof(v) && v == i, "view recv %llu",
				(unsigned long long)i);
		}
		CF_TRUE(!chan_ep_get_stats(ep, &st, sizeof(st)) &&
			st.fast_sent == 200 && st.fast_received == 200,
			"fast %llu %llu", (unsigned long long)st.fast_sent,
			(unsigned long long)st.fast_received);
		chan_ep_close(ep);
		CF_OK(ct_destroy(dev, own));
		_exit(0);
	}
	self->pid[0] = pid;
	EXPECT_EQ(0, CT_CHILD(&self->pid[0], 0, WAIT_MS, "nobody"));
}

TEST_HARNESS_MAIN
