/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A ring of kmod/chan_ring.h built in user memory, fenced by guard pages
 * and canary bytes, and the send/receive sequences every test uses.
 */
#ifndef RING_FIXTURE_H
#define RING_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chan_ring.h"
#include "host_util.h"

/**
 * struct ring_fixture - a ring and the memory around it
 * @v: the trusted view the tests pass to chan_ring_*()
 * @hdr: the shared header (start of the ring)
 * @capacity: number of slots
 * @msg_size: largest payload
 * @ring_bytes: header plus slots
 * @map: the whole mapping: guard page, canary, ring, guard page
 * @map_bytes: its size
 * @canary: bytes between the front guard page and the header
 * @canary_bytes: their number
 * @hdr_copy: the header as built; the ring code may change only the cursors
 */
struct ring_fixture {
	struct chan_ring_view v;
	struct chan_ring_hdr *hdr;
	uint32_t capacity;
	uint32_t msg_size;
	size_t ring_bytes;
	unsigned char *map;
	size_t map_bytes;
	unsigned char *canary;
	size_t canary_bytes;
	unsigned char hdr_copy[CHAN_RING_HDR_SIZE];
};

/* capacity must be a power of two. Returns 0 or -errno. */
int ring_fixture_init(struct ring_fixture *f, uint32_t capacity,
		      uint32_t msg_size);
void ring_fixture_destroy(struct ring_fixture *f);

/*
 * The end of a single-threaded test: if it passed so far (ok), the ring's
 * surroundings must be intact; the ring is destroyed either way. Returns
 * the test's result.
 */
bool ring_fixture_finish(struct ring_fixture *f, bool ok);

/*
 * The start of a threaded test: the ring, and *seen, a zeroed byte for
 * each of total messages. Returns 0 or -errno.
 */
int ring_run_init(struct ring_fixture *f, unsigned char **seen,
		  uint64_t total, uint32_t capacity, uint32_t msg_size);

/* Canary bytes and the header (but for tail and head) are intact, else
 * diagnose. Not while other threads use the ring.
 */
bool ring_fixture_intact(const struct ring_fixture *f);

/* Start the ring at cursor position pos: tail = head = pos and every slot
 * EMPTY for the lap of the next position that maps to it, as if pos
 * messages had gone through. Single-threaded use only.
 */
void ring_fixture_set_position(struct ring_fixture *f, uint64_t pos);

/* The slot a position maps to, and its state word (relaxed load). */
struct chan_slot *ring_slot_at(const struct ring_fixture *f, uint64_t pos);
uint64_t ring_state_at(const struct ring_fixture *f, uint64_t pos);

/*
 * What an endpoint killed between the claim CAS and the cursor help leaves
 * behind: the slot at pos moved from phase `from` to `to` (owner) for the
 * lap of pos, the cursor not moved. False if the slot was not in phase
 * `from` for that lap.
 */
bool ring_claim_unhelped(struct ring_fixture *f, uint64_t pos, uint32_t from,
			 uint32_t to, uint32_t owner);

/* Copy of the whole ring, to try an operation and undo it. */
void *ring_snapshot(const struct ring_fixture *f);
void ring_restore(struct ring_fixture *f, const void *snap);

/*
 * One attempt: claim, copy, publish. Returns 0 (position in *posp if not
 * NULL), or -EAGAIN / -EIO from chan_ring_claim_send().
 */
int ring_send(const struct chan_ring_view *v, uint32_t owner, const void *msg,
	      uint32_t len, uint64_t *posp);

/*
 * One attempt: claim, skip a tombstone, copy out, retire. Returns
 * RING_RECV_MSG (length in *lenp), RING_RECV_TOMBSTONE, or -EAGAIN /
 * -EMSGSIZE (length in *lenp) / -EIO.
 */
#define RING_RECV_MSG		0
#define RING_RECV_TOMBSTONE	1
int ring_recv(const struct chan_ring_view *v, uint32_t owner, void *buf,
	      uint32_t max_len, uint32_t *lenp, uint64_t *posp);

/* As above, but spin (sched_yield) on -EAGAIN until the test's deadline,
 * then return -ETIMEDOUT.
 */
int ring_send_wait(const struct chan_ring_view *v, uint32_t owner,
		   const void *msg, uint32_t len);
int ring_recv_wait(const struct chan_ring_view *v, uint32_t owner, void *buf,
		   uint32_t max_len, uint32_t *lenp);

/* Report a failed check (file, line, condition, then a message). */
void host_check_failed(const char *file, int line, const char *cond,
		       const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Fail the test (goto out) unless cond holds. */
#define CHECK(cond, ...)						\
	do {								\
		if (!(cond)) {						\
			host_check_failed(__FILE__, __LINE__, #cond,	\
					  __VA_ARGS__);			\
			goto out;					\
		}							\
	} while (0)

/* Fixed-seed pseudo-random numbers (xorshift64*), one state per thread. */
static inline uint64_t host_rand(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dULL;
}

#endif /* RING_FIXTURE_H */
