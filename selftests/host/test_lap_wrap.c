// SPDX-License-Identifier: GPL-2.0
/*
 * The 46-bit lap field wrapping round: chan_lap_diff() and traffic whose
 * cursors cross (1 << 46) << shift, and the 64-bit cursors wrapping too.
 */
#include <string.h>

#include "ring_fixture.h"
#include "ring_tests.h"

#define LAP_WRAP	(1ULL << CHAN_SLOT_LAP_BITS)

bool test_lap_diff(const void *arg)
{
	static const struct {
		__u64 a, b;
		__s64 d;
	} cases[] = {
		{ 5, 5, 0 },
		{ 6, 5, 1 },
		{ 5, 6, -1 },
		{ 0, LAP_WRAP - 1, 1 },
		{ LAP_WRAP - 1, 0, -1 },
		{ 1, LAP_WRAP - 1, 2 },
		{ LAP_WRAP / 2 - 1, 0, (__s64)(LAP_WRAP / 2 - 1) },
		{ LAP_WRAP / 2, 0, -(__s64)(LAP_WRAP / 2) },
		{ 0, LAP_WRAP / 2, -(__s64)(LAP_WRAP / 2) },
	};
	unsigned int i;
	bool ok = false;

	(void)arg;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		__s64 d = chan_lap_diff(cases[i].a, cases[i].b);

		CHECK(d == cases[i].d, "chan_lap_diff(%#llx, %#llx) = %lld, expected %lld",
		      (unsigned long long)cases[i].a, (unsigned long long)cases[i].b,
		      (long long)d, (long long)cases[i].d);
	}
	/* The state word keeps 46 bits of lap and gives them back. */
	CHECK(chan_slot_lap(chan_slot_state(LAP_WRAP - 1, CHAN_SLOT_FULL, 0xffff)) ==
	      LAP_WRAP - 1, "lap 2^46-1 does not survive the state word");
	CHECK(chan_slot_lap(chan_slot_state(LAP_WRAP, CHAN_SLOT_EMPTY, 0)) == 0,
	      "lap 2^46 is not stored as 0");
	CHECK(chan_slot_owner(chan_slot_state(LAP_WRAP - 1, CHAN_SLOT_READING, 0xffff)) ==
	      0xffff, "owner does not survive next to a full lap");
	ok = true;
out:
	return ok;
}

bool test_fifo_across_lap_wrap(const void *arg)
{
	static const unsigned int shifts[] = { 0, 1, 2, 3, 10 };
	unsigned int i;

	(void)arg;
	for (i = 0; i < ARRAY_SIZE(shifts); i++) {
		uint32_t cap = 1U << shifts[i];
		/* Three laps short of the wrap, then at least 8 laps. */
		uint64_t start = (LAP_WRAP - 3) << shifts[i];
		uint64_t total = 8ULL * cap > 4000 ? 8ULL * cap : 4000;

		if (!ring_fifo_run(cap, 24, start, total, 10 + i)) {
			host_diag("capacity %u from %#llx", cap,
				  (unsigned long long)start);
			return false;
		}
		/* Also a start in the middle of a lap. */
		if (!ring_fifo_run(cap, 24, start + cap / 2 + 1, total, 20 + i)) {
			host_diag("capacity %u from %#llx", cap,
				  (unsigned long long)(start + cap / 2 + 1));
			return false;
		}
	}
	return true;
}

bool test_fifo_across_cursor_wrap(const void *arg)
{
	static const unsigned int shifts[] = { 0, 2, 10 };
	unsigned int i;

	(void)arg;
	/*
	 * For capacities up to 2^18 the 64-bit cursor wraps exactly when the
	 * 46-bit lap does, so the ring runs on from position 0.
	 */
	for (i = 0; i < ARRAY_SIZE(shifts); i++) {
		uint32_t cap = 1U << shifts[i];
		uint64_t start = 0 - 3ULL * cap;

		if (!ring_fifo_run(cap, 24, start, 8ULL * cap + 100, 30 + i)) {
			host_diag("capacity %u from %#llx", cap,
				  (unsigned long long)start);
			return false;
		}
	}
	return true;
}

/* Deaths on the last lap before the wrap: repair's lap + 1 must wrap too. */
bool test_repair_at_lap_wrap(const void *arg)
{
	struct chan_ring_repair_counts c = { 0 };
	unsigned char msg[16] = { 0 }, buf[16];
	struct ring_fixture f;
	struct chan_slot *s;
	uint64_t start;
	__u32 len;
	__s64 pos;
	bool ok = false;
	int i, ret;

	(void)arg;
	CHECK(!ring_fixture_init(&f, 2, 16), "cannot map a ring");
	start = (LAP_WRAP - 1) << 1;
	ring_fixture_set_position(&f, start);
	/* Slot 0: a dead reader; slot 1: a dead writer, both at lap 2^46-1. */
	CHECK(ring_send(&f.v, 2, msg, 8, NULL) == 0, "send");
	s = chan_ring_claim_recv(&f.v, 9, sizeof(buf), &pos, &len);
	CHECK(s && (uint64_t)pos == start, "dead reader's claim at %#llx",
	      (unsigned long long)pos);
	s = chan_ring_claim_send(&f.v, 7, &pos);
	CHECK(s && (uint64_t)pos == start + 1, "dead writer's claim");
	chan_ring_repair(&f.v, 9, &c);
	chan_ring_repair(&f.v, 7, &c);
	CHECK(c.reader_drops == 1 && c.tombstoned == 1, "repair counts %u %u",
	      c.reader_drops, c.tombstoned);
	CHECK(ring_state_at(&f, start + 2) ==
	      chan_slot_state(0, CHAN_SLOT_EMPTY, CHAN_OWNER_NONE),
	      "slot 0 after the dead reader's repair: %#llx",
	      (unsigned long long)ring_state_at(&f, start + 2));
	ret = ring_recv(&f.v, 3, buf, sizeof(buf), &len, NULL);
	CHECK(ret == RING_RECV_TOMBSTONE, "recv of the tombstone: %d", ret);
	for (i = 0; i < 100; i++) {
		CHECK(ring_send(&f.v, 2, msg, 8, &start) == 0, "send %d across the wrap", i);
		ret = ring_recv(&f.v, 3, buf, sizeof(buf), &len, NULL);
		CHECK(ret == RING_RECV_MSG && len == 8, "recv %d across the wrap: %d", i, ret);
	}
	CHECK(start == LAP_WRAP * 2 + 99, "last position %#llx", (unsigned long long)start);
	ok = true;
out:
	return ring_fixture_finish(&f, ok);
}
