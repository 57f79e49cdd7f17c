// SPDX-License-Identifier: MIT
/*
 * The C++ queues: Boost.Lockfree queue (MPMC, node-based with a fixed
 * free list) and spsc_queue (SPSC ring), and moodycamel's ConcurrentQueue
 * (MPMC, per-producer sub-queues; used with producer and consumer tokens
 * and try_enqueue, which never allocates, so it is bounded by the blocks
 * preallocated for `cap` elements).
 */
#include <cstdlib>
#include <new>

#include <boost/lockfree/queue.hpp>
#include <boost/lockfree/spsc_queue.hpp>
#include <concurrentqueue/concurrentqueue.h>

#include "ring_bench.h"

namespace {

constexpr unsigned int kCap = 1024;

template <typename M>
using bqueue = boost::lockfree::queue<M, boost::lockfree::capacity<kCap>>;
template <typename M>
using bspsc = boost::lockfree::spsc_queue<M, boost::lockfree::capacity<kCap>>;

struct boost_q {
	bqueue<rb_m8> q8;
	bqueue<rb_m64> q64;
};

void *bq_create(int, unsigned int, unsigned int cap)
{
	if (cap != kCap)
		std::abort();
	return new boost_q;
}

void bq_destroy(void *q)
{
	delete static_cast<boost_q *>(q);
}

inline int bq_push8(void *q, int, rb_m8 *m)
{
	return static_cast<boost_q *>(q)->q8.bounded_push(*m);
}
inline int bq_push64(void *q, int, rb_m64 *m)
{
	return static_cast<boost_q *>(q)->q64.bounded_push(*m);
}
inline int bq_pop8(void *q, int, rb_m8 *m)
{
	return static_cast<boost_q *>(q)->q8.pop(*m);
}
inline int bq_pop64(void *q, int, rb_m64 *m)
{
	return static_cast<boost_q *>(q)->q64.pop(*m);
}
RB_LOOPS(bq)

struct boost_spsc {
	bspsc<rb_m8> q8;
	bspsc<rb_m64> q64;
};

void *bs_create(int, unsigned int, unsigned int cap)
{
	if (cap != kCap)
		std::abort();
	return new boost_spsc;
}

void bs_destroy(void *q)
{
	delete static_cast<boost_spsc *>(q);
}

inline int bs_push8(void *q, int, rb_m8 *m)
{
	return static_cast<boost_spsc *>(q)->q8.push(*m);
}
inline int bs_push64(void *q, int, rb_m64 *m)
{
	return static_cast<boost_spsc *>(q)->q64.push(*m);
}
inline int bs_pop8(void *q, int, rb_m8 *m)
{
	return static_cast<boost_spsc *>(q)->q8.pop(*m);
}
inline int bs_pop64(void *q, int, rb_m64 *m)
{
	return static_cast<boost_spsc *>(q)->q64.pop(*m);
}
RB_LOOPS(bs)

/*
 * moodycamel: the queue and the tokens of the one producer and the one
 * consumer thread (tokens are per thread; each is made on its thread's
 * first use, outside the timed loop's steady state).
 */
template <typename M>
struct mc_state {
	moodycamel::ConcurrentQueue<M> q;
	moodycamel::ProducerToken *ptok = nullptr;
	moodycamel::ConsumerToken *ctok = nullptr;

	explicit mc_state(unsigned int cap) : q(cap) {}
	~mc_state()
	{
		delete ptok;
		delete ctok;
	}
};

struct mc_q {
	int size;
	mc_state<rb_m8> *s8 = nullptr;
	mc_state<rb_m64> *s64 = nullptr;
};

void *mc_create(int, unsigned int size, unsigned int cap)
{
	mc_q *q = new mc_q;

	q->size = size;
	if (size == 8)
		q->s8 = new mc_state<rb_m8>(cap);
	else
		q->s64 = new mc_state<rb_m64>(cap);
	return q;
}

void mc_destroy(void *p)
{
	mc_q *q = static_cast<mc_q *>(p);

	delete q->s8;
	delete q->s64;
	delete q;
}

template <typename M>
inline int mc_push(mc_state<M> *s, M *m)
{
	return s->q.try_enqueue(*s->ptok, *m);
}

template <typename M>
inline int mc_pop(mc_state<M> *s, M *m)
{
	return s->q.try_dequeue(*s->ctok, *m);
}

inline int mc_push8(void *q, int, rb_m8 *m)
{
	return mc_push(static_cast<mc_q *>(q)->s8, m);
}
inline int mc_push64(void *q, int, rb_m64 *m)
{
	return mc_push(static_cast<mc_q *>(q)->s64, m);
}
inline int mc_pop8(void *q, int, rb_m8 *m)
{
	return mc_pop(static_cast<mc_q *>(q)->s8, m);
}
inline int mc_pop64(void *q, int, rb_m64 *m)
{
	return mc_pop(static_cast<mc_q *>(q)->s64, m);
}
RB_LOOPS(mc)

template <typename M>
void mc_tokens(mc_state<M> *s, bool producer)
{
	if (producer && !s->ptok)
		s->ptok = new moodycamel::ProducerToken(s->q);
	if (!producer && !s->ctok)
		s->ctok = new moodycamel::ConsumerToken(s->q);
}

void mc_produce_tok(void *p, int mode, unsigned int size, uint64_t n)
{
	mc_q *q = static_cast<mc_q *>(p);

	if (q->s8)
		mc_tokens(q->s8, true);
	else
		mc_tokens(q->s64, true);
	mc_produce(p, mode, size, n);
}

uint64_t mc_consume_tok(void *p, int mode, unsigned int size, uint64_t n)
{
	mc_q *q = static_cast<mc_q *>(p);

	if (q->s8)
		mc_tokens(q->s8, false);
	else
		mc_tokens(q->s64, false);
	return mc_consume(p, mode, size, n);
}

} // namespace

extern "C" {
const struct rb_impl rb_boost_queue = {
	"boost-queue", "Boost.Lockfree queue<T, capacity<1024>>, bounded_push/pop (every mode runs the same MPMC code)",
	RB_ALL_MODES, 1, bq_create, bq_destroy, bq_produce, bq_consume,
};
const struct rb_impl rb_boost_spsc = {
	"boost-spsc", "Boost.Lockfree spsc_queue<T, capacity<1024>>",
	RB_MODE_BIT(RB_SPSC), 1, bs_create, bs_destroy, bs_produce, bs_consume,
};
const struct rb_impl rb_moodycamel = {
	"moodycamel", "moodycamel::ConcurrentQueue with producer/consumer tokens, try_enqueue/try_dequeue (every mode runs the same MPMC code)",
	RB_ALL_MODES, 1, mc_create, mc_destroy, mc_produce_tok, mc_consume_tok,
};
}
