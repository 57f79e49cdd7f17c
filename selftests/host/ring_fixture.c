// SPDX-License-Identifier: GPL-2.0
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ring_fixture.h"

#define CANARY_MIN	256
#define CANARY_BYTE(i)	((unsigned char)(0xa5 ^ (i)))

static size_t page_size(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

int ring_fixture_init(struct ring_fixture *f, uint32_t capacity,
		      uint32_t msg_size)
{
	size_t pg = page_size(), body;
	uint32_t shift = 0;
	size_t i;

	memset(f, 0, sizeof(*f));
	if (!capacity || (capacity & (capacity - 1)))
		return -EINVAL;
	while ((1U << shift) < capacity)
		shift++;

	f->capacity = capacity;
	f->msg_size = msg_size;
	f->ring_bytes = CHAN_RING_HDR_SIZE +
			(size_t)capacity * chan_ring_slot_size(msg_size);
	/*
	 * The ring ends exactly at the back guard page, so any access past
	 * the last slot faults; canary bytes fill the space in front of the
	 * header up to the front guard page.
	 */
	body = (f->ring_bytes + CANARY_MIN + pg - 1) / pg * pg;
	f->map_bytes = body + 2 * pg;
	f->map = mmap(NULL, f->map_bytes, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (f->map == MAP_FAILED)
		return -errno;
	if (mprotect(f->map, pg, PROT_NONE) ||
	    mprotect(f->map + pg + body, pg, PROT_NONE)) {
		munmap(f->map, f->map_bytes);
		return -errno;
	}
	f->canary = f->map + pg;
	f->canary_bytes = body - f->ring_bytes;
	for (i = 0; i < f->canary_bytes; i++)
		f->canary[i] = CANARY_BYTE(i);

	/* Anonymous memory is zero: an empty ring. */
	f->hdr = (struct chan_ring_hdr *)(f->canary + f->canary_bytes);
	f->hdr->magic = CHAN_RING_MAGIC;
	f->hdr->version = CHAN_RING_VERSION;
	f->hdr->msg_size = msg_size;
	f->hdr->slot_size = chan_ring_slot_size(msg_size);
	f->hdr->capacity = capacity;
	f->hdr->capacity_shift = shift;
	f->hdr->slots_offset = CHAN_RING_HDR_SIZE;
	memcpy(f->hdr_copy, f->hdr, CHAN_RING_HDR_SIZE);

	f->v.hdr = f->hdr;
	f->v.slots = (unsigned char *)f->hdr + CHAN_RING_HDR_SIZE;
	f->v.mask = capacity - 1;
	f->v.shift = shift;
	f->v.slot_size = chan_ring_slot_size(msg_size);
	f->v.msg_size = msg_size;
	return 0;
}

void ring_fixture_destroy(struct ring_fixture *f)
{
	if (f->map && f->map != MAP_FAILED)
		munmap(f->map, f->map_bytes);
	f->map = NULL;
}

bool ring_fixture_finish(struct ring_fixture *f, bool ok)
{
	if (ok && !ring_fixture_intact(f)) {
		host_check_failed(__FILE__, __LINE__, "ring_fixture_intact(f)",
				  "memory around the ring");
		ok = false;
	}
	ring_fixture_destroy(f);
	return ok;
}

int ring_run_init(struct ring_fixture *f, unsigned char **seen,
		  uint64_t total, uint32_t capacity, uint32_t msg_size)
{
	*seen = calloc(total, 1);
	if (!*seen)
		return -ENOMEM;
	return ring_fixture_init(f, capacity, msg_size);
}

bool ring_fixture_intact(const struct ring_fixture *f)
{
	size_t i;

	for (i = 0; i < f->canary_bytes; i++) {
		if (f->canary[i] != CANARY_BYTE(i)) {
			host_diag("canary byte %zu before the ring overwritten (0x%02x)",
				  f->canary_bytes - i, f->canary[i]);
			return false;
		}
	}
	for (i = 0; i < CHAN_RING_HDR_SIZE; i++) {
		const unsigned char *now = (const unsigned char *)f->hdr;

		if (i >= offsetof(struct chan_ring_hdr, tail) &&
		    i < offsetof(struct chan_ring_hdr, tail) + 8)
			continue;
		if (i >= offsetof(struct chan_ring_hdr, head) &&
		    i < offsetof(struct chan_ring_hdr, head) + 8)
			continue;
		if (now[i] != f->hdr_copy[i]) {
			host_diag("ring header byte %zu changed: 0x%02x, was 0x%02x",
				  i, now[i], f->hdr_copy[i]);
			return false;
		}
	}
	return true;
}

struct chan_slot *ring_slot_at(const struct ring_fixture *f, uint64_t pos)
{
	return chan_ring_slot(&f->v, pos);
}

uint64_t ring_state_at(const struct ring_fixture *f, uint64_t pos)
{
	return __atomic_load_n(&ring_slot_at(f, pos)->state, __ATOMIC_RELAXED);
}

void ring_fixture_set_position(struct ring_fixture *f, uint64_t pos)
{
	uint64_t i;

	f->hdr->tail = pos;
	f->hdr->head = pos;
	for (i = 0; i < f->capacity; i++) {
		uint64_t next = pos + ((i - pos) & f->v.mask);

		ring_slot_at(f, next)->state =
			chan_slot_state(chan_ring_lap(&f->v, next),
					CHAN_SLOT_EMPTY, CHAN_OWNER_NONE);
	}
}

bool ring_claim_unhelped(struct ring_fixture *f, uint64_t pos, uint32_t from,
			 uint32_t to, uint32_t owner)
{
	struct chan_slot *s = ring_slot_at(f, pos);
	__u64 lap = chan_ring_lap(&f->v, pos);
	__u64 old = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);

	if (chan_slot_phase(old) != from || chan_slot_lap(old) != lap)
		return false;
	return chan_cas(&s->state, &old, chan_slot_state(lap, to, owner));
}

void *ring_snapshot(const struct ring_fixture *f)
{
	void *snap = malloc(f->ring_bytes);

	if (snap)
		memcpy(snap, f->hdr, f->ring_bytes);
	return snap;
}

void ring_restore(struct ring_fixture *f, const void *snap)
{
	memcpy(f->hdr, snap, f->ring_bytes);
}

int ring_send(const struct chan_ring_view *v, uint32_t owner, const void *msg,
	      uint32_t len, uint64_t *posp)
{
	struct chan_slot *s;
	__s64 pos;

	s = chan_ring_claim_send(v, owner, &pos);
	if (!s)
		return (int)pos;
	memcpy(s->data, msg, len);
	chan_ring_publish(v, s, (__u64)pos, len, owner);
	if (posp)
		*posp = (uint64_t)pos;
	return 0;
}

int ring_recv(const struct chan_ring_view *v, uint32_t owner, void *buf,
	      uint32_t max_len, uint32_t *lenp, uint64_t *posp)
{
	struct chan_slot *s;
	__u32 len = 0;
	__s64 pos;
	int ret = RING_RECV_MSG;

	s = chan_ring_claim_recv(v, owner, max_len, &pos, &len);
	if (!s) {
		if (pos == -EMSGSIZE && lenp)
			*lenp = len;
		return (int)pos;
	}
	if (chan_slot_is_tombstone(s))
		ret = RING_RECV_TOMBSTONE;
	else
		memcpy(buf, s->data, len);
	chan_ring_retire(v, s, (__u64)pos);
	if (lenp)
		*lenp = len;
	if (posp)
		*posp = (uint64_t)pos;
	return ret;
}

int ring_send_wait(const struct chan_ring_view *v, uint32_t owner,
		   const void *msg, uint32_t len)
{
	unsigned int spins = 0;
	int ret;

	while ((ret = ring_send(v, owner, msg, len, NULL)) == -EAGAIN) {
		if (!(++spins & 255) && host_test_expired())
			return -ETIMEDOUT;
		sched_yield();
	}
	return ret;
}

int ring_recv_wait(const struct chan_ring_view *v, uint32_t owner, void *buf,
		   uint32_t max_len, uint32_t *lenp)
{
	unsigned int spins = 0;
	int ret;

	while ((ret = ring_recv(v, owner, buf, max_len, lenp, NULL)) == -EAGAIN) {
		if (!(++spins & 255) && host_test_expired())
			return -ETIMEDOUT;
		sched_yield();
	}
	return ret;
}

void host_check_failed(const char *file, int line, const char *cond,
		       const char *fmt, ...)
{
	char buf[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	host_diag("%s:%d: check failed: %s", file, line, cond);
	if (buf[0])
		host_diag("  %s", buf);
}
