// SPDX-License-Identifier: GPL-2.0
/*
 * Host-side tests of the ring protocol in kmod/chan_ring.h, compiled in
 * user space and run by the kselftest harness, as the VM tests are (with
 * the same filters: -l lists the tests, -t NAME runs one; see
 * chan_test_lib.h).  Each test is a function of test_*.c, true on
 * success.
 */
#include "chan_test_util.h"
#include "ring_tests.h"

/* 6.1's TEST() leaves an argument of its wrapper unused. */
#pragma GCC diagnostic ignored "-Wunused-parameter"

/* A test of the harness that runs fn(arg) against its own deadline. */
#define HOST_TEST(name, fn, ...)					\
	TEST(name)							\
	{								\
		host_test_start();					\
		ASSERT_TRUE(fn(__VA_ARGS__));				\
	}

/* Receive from an empty ring is -EAGAIN. */
HOST_TEST(basic_empty_recv, test_empty_recv, NULL)
/* Fill to capacity (1, 2, 4, 8, 1024), then send is -EAGAIN. */
HOST_TEST(basic_fill_to_capacity, test_fill_to_capacity, NULL)
/* FIFO order and content at varying depths. */
HOST_TEST(basic_fifo, test_fifo, NULL)
/* Wrap-around, 10000 messages over capacity 4, 2 and 1. */
HOST_TEST(basic_wrap_laps, test_wrap_laps, NULL)
/* Zero-length messages. */
HOST_TEST(basic_zero_length, test_zero_length, NULL)
/* Max-size messages (1 B .. 1 MiB). */
HOST_TEST(basic_max_size, test_max_size, NULL)
/* A short buffer is -EMSGSIZE, the message and the order kept. */
HOST_TEST(recv_emsgsize, test_emsgsize, NULL)
/* can_send/can_recv agree with claims (named states, 20000-step walk). */
HOST_TEST(can_send_recv_agree, test_can_send_recv, NULL)

/* chan_lap_diff and the state word at 2^46. */
HOST_TEST(lap_wrap_lap_diff, test_lap_diff, NULL)
/* FIFO traffic across lap 2^46 (capacity 1 .. 1024). */
HOST_TEST(lap_wrap_fifo, test_fifo_across_lap_wrap, NULL)
/* FIFO traffic across the 64-bit cursor wrap (capacity 1, 4, 1024). */
HOST_TEST(lap_wrap_fifo_cursor_wrap, test_fifo_across_cursor_wrap, NULL)
/* A dead reader and writer repaired on lap 2^46 - 1. */
HOST_TEST(lap_wrap_repair, test_repair_at_lap_wrap, NULL)

/* A writer dies holding a WRITING slot: tombstone, receivers skip it. */
HOST_TEST(repair_dead_writer, test_dead_writer, NULL)
/* A reader dies holding a READING slot: EMPTY for the next lap. */
HOST_TEST(repair_dead_reader, test_dead_reader, NULL)
/* A reader dies holding a tombstone: counted as skipped. */
HOST_TEST(repair_dead_reader_of_tombstone, test_dead_reader_of_tombstone,
	  NULL)
/* A writer dies between claim CAS and tail help, a send comes next. */
HOST_TEST(repair_unhelped_writer_send_cap4,
	  test_writer_dies_before_tail_help,
	  &(const struct unhelped_case){ true, 4 })
/* ... the tombstone consumed before any send. */
HOST_TEST(repair_unhelped_writer_consume_cap4,
	  test_writer_dies_before_tail_help,
	  &(const struct unhelped_case){ false, 4 })
HOST_TEST(repair_unhelped_writer_consume_cap1,
	  test_writer_dies_before_tail_help,
	  &(const struct unhelped_case){ false, 1 })
/* A reader dies between claim CAS and head help. */
HOST_TEST(repair_unhelped_reader_cap4, test_reader_dies_before_head_help,
	  &(const struct unhelped_case){ false, 4 })
HOST_TEST(repair_unhelped_reader_cap1, test_reader_dies_before_head_help,
	  &(const struct unhelped_case){ false, 1 })
/* can_* agree with claims at cursors left stale by a death (cap 1, 2, 4). */
HOST_TEST(repair_stale_cursor_states, test_stale_cursor_states, NULL)
/* 20000-step walks of claims, deaths and repairs: no -EIO, can_* agree. */
HOST_TEST(repair_stale_walk, test_stale_walk, NULL)

/* k killers dying as writer/reader `deaths` times each under p x c traffic:
 * the accounting identity holds. */
#define CHAOS(p, c, k, cap, per, deaths)				\
	HOST_TEST(repair_under_traffic_##p##x##c##_k##k##_cap##cap,	\
		  test_repair_under_traffic,				\
		  &(const struct chaos_config){ p, c, k, cap, per, deaths })
CHAOS(2, 2, 1, 1, 20000, 2000)
CHAOS(2, 2, 1, 8, 50000, 4000)
CHAOS(4, 4, 2, 64, 25000, 4000)

/* Random cursors and slot words: bounded calls, in-ring slots, clamped
 * lengths. */
HOST_TEST(garbage_single, test_garbage_single, NULL)
/* A scribbler corrupts the ring under 4 threads of traffic. */
HOST_TEST(garbage_concurrent_cap1, test_garbage_concurrent,
	  &(const uint32_t){ 1 })
HOST_TEST(garbage_concurrent_cap16, test_garbage_concurrent,
	  &(const uint32_t){ 16 })

/* p producers x c consumers, per messages each: every message delivered
 * once, intact, in its producer's order. */
#define MPMC(p, c, cap, per)						\
	HOST_TEST(mpmc_##p##x##c##_cap##cap, test_mpmc,			\
		  &(const struct mpmc_config){ p, c, cap, per, 0 })
/* The same from 1000 laps short of the lap field's wrap at 2^46. */
#define MPMC_LAP_WRAP(p, c, cap, shift, per)				\
	HOST_TEST(mpmc_lap_wrap_##p##x##c##_cap##cap, test_mpmc,	\
		  &(const struct mpmc_config){ p, c, cap, per,		\
					       ((1ULL << 46) - 1000) << (shift) })
MPMC(1, 1, 1, 100000)
MPMC(1, 1, 2, 100000)
MPMC(1, 1, 8, 100000)
MPMC(1, 1, 1024, 200000)
MPMC(2, 1, 1, 50000)
MPMC(2, 1, 8, 50000)
MPMC(1, 2, 1, 100000)
MPMC(1, 2, 8, 100000)
MPMC(4, 4, 1, 50000)
MPMC(4, 4, 2, 50000)
MPMC(4, 4, 8, 50000)
MPMC(4, 4, 1024, 50000)
MPMC(8, 8, 1, 25000)
MPMC(8, 8, 2, 25000)
MPMC(8, 8, 8, 25000)
MPMC(8, 8, 1024, 25000)
MPMC_LAP_WRAP(2, 2, 1, 0, 20000)
MPMC_LAP_WRAP(4, 4, 4, 2, 10000)
MPMC_LAP_WRAP(4, 4, 8, 3, 10000)

/* The stream claim: the head stays until the slot is read to its end;
 * partial takes handed back with their offset; a busy head is -EBUSY. */
HOST_TEST(stream_claim, test_stream_claim, NULL)
/* A dead stream reader's slot back FULL, offset kept; its unhelped head;
 * a dead writer's tombstone. */
HOST_TEST(stream_repair, test_stream_repair, NULL)
/* A read that goes on holds the next write before it retires the last. */
HOST_TEST(stream_next, test_stream_next, NULL)
/* Garbage states, lengths and offsets: bounded, clamped, in the ring. */
HOST_TEST(stream_garbage, test_stream_garbage, NULL)
/* 3 writers x 3 readers, partial takes: every byte once, in order. */
HOST_TEST(stream_threads_cap1, test_stream_threads, &(const uint32_t){ 1 })
HOST_TEST(stream_threads_cap4, test_stream_threads, &(const uint32_t){ 4 })
HOST_TEST(stream_threads_cap64, test_stream_threads, &(const uint32_t){ 64 })

/* The compact SPSC ring (kmod/chan_spsc_ring.h): FIFO, full, empty,
 * EMSGSIZE, strides, 10000 messages round capacity 1, 2, 4, 1024. */
HOST_TEST(spsc2_basic, test_spsc2_basic, NULL)
/* A party killed before its cursor store: nothing sent, nothing taken. */
HOST_TEST(spsc2_deaths, test_spsc2_deaths, NULL)
/* Random cursors, cached cursors and lengths: bounded, clamped, in the
 * ring; -EIO for a head past the tail or a tail a ring ahead. */
HOST_TEST(spsc2_garbage, test_spsc2_garbage, NULL)
/* Two threads, up to 2,000,000 messages of 0..200 bytes: each checked,
 * and a running checksum of all. */
HOST_TEST(spsc2_threads_cap1, test_spsc2_threads, &(const uint32_t){ 1 })
HOST_TEST(spsc2_threads_cap8, test_spsc2_threads, &(const uint32_t){ 8 })
HOST_TEST(spsc2_threads_cap1024, test_spsc2_threads,
	  &(const uint32_t){ 1024 })

CT_HARNESS_MAIN
