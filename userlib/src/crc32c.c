// SPDX-License-Identifier: MIT
/*
 * CRC32C (Castagnoli, reflected polynomial 0x82f63b78), for the checks of
 * CHAN_CREATE_CRC32C channels: the SSE4.2 crc32 instruction where the CPU
 * has it, else a table. The kernel computes the same with __crc32c_le().
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <pthread.h>

#include "libchan_private.h"

static uint32_t crc_table[256];
static bool crc_hw;
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
	uint32_t i, j, c;

	for (i = 0; i < 256; i++) {
		c = i;
		for (j = 0; j < 8; j++)
			c = (c >> 1) ^ (0x82f63b78U & (0U - (c & 1)));
		crc_table[i] = c;
	}
#if defined(__x86_64__)
	crc_hw = __builtin_cpu_supports("sse4.2");
#endif
}

static uint32_t crc_sw(uint32_t crc, const unsigned char *p, size_t len)
{
	while (len--)
		crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2")))
static uint32_t crc_hw_run(uint32_t crc, const unsigned char *p, size_t len)
{
	uint64_t c = crc, w;

	for (; len >= 8; len -= 8, p += 8) {
		memcpy(&w, p, 8);
		c = __builtin_ia32_crc32di(c, w);
	}
	crc = (uint32_t)c;
	while (len--)
		crc = __builtin_ia32_crc32qi(crc, *p++);
	return crc;
}
#endif

static uint32_t crc_run(uint32_t crc, const void *p, size_t len)
{
#if defined(__x86_64__)
	if (crc_hw)
		return crc_hw_run(crc, p, len);
#endif
	return crc_sw(crc, p, len);
}

uint32_t chan__msg_crc(const void *msg, uint32_t len)
{
	unsigned char le[4] = {
		(unsigned char)len, (unsigned char)(len >> 8),
		(unsigned char)(len >> 16), (unsigned char)(len >> 24),
	};

	pthread_once(&crc_once, crc_init);
	return ~crc_run(crc_run(~0U, le, sizeof(le)), msg, len);
}
