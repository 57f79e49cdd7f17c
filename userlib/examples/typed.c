// SPDX-License-Identifier: MIT
/*
 * CHAN_DECLARE_TYPED in a few lines: a channel that carries only struct
 * point, sent and received within one process. Opening it with another
 * type's tag fails with EPROTOTYPE.
 */
#include <stdio.h>
#include <string.h>

#include "libchan.h"

struct point {
	int32_t x, y;
	char label[8];
};

CHAN_DECLARE_TYPED(point_chan, struct point)

static int fail(const char *what, int err)
{
	fprintf(stderr, "chan-typed-example: %s: %s\n", what, strerror(-err));
	return 1;
}

int main(void)
{
	static const struct point points[] = {
		{ 1, 2, "a" }, { -3, 4, "b" }, { 5, -6, "c" },
	};
	struct point_chan c;
	struct point pt;
	uint32_t id;
	size_t i;
	int ret, fd;

	ret = chan_dev_fd();
	if (ret < 0)
		return fail("open /dev/chan", ret);
	ret = point_chan_create(8, 0600, NULL, &id);
	if (ret)
		return fail("create", ret);
	printf("channel %u carries struct point (tag 0x%016llx)\n", id,
	       (unsigned long long)point_chan_tag());

	/* A different message type is refused at open. */
	fd = chan_open_typed(id, CHAN_ROLE_RECV, CHAN_OPEN_CLOEXEC,
			     chan_type_tag("struct other", sizeof(int)));
	if (fd >= 0) {
		chan_close(fd);
		chan_destroy(id);
		fprintf(stderr, "chan-typed-example: wrong type tag accepted\n");
		return 1;
	}
	printf("open with another type's tag: %s\n", strerror(-fd));

	ret = point_chan_open(&c, id, CHAN_ROLE_SEND | CHAN_ROLE_RECV,
			      CHAN_OPEN_CLOEXEC);
	if (ret) {
		chan_destroy(id);
		return fail("open", ret);
	}
	for (i = 0; i < sizeof(points) / sizeof(points[0]); i++) {
		ret = point_chan_send(&c, points[i]);
		if (ret)
			break;
	}
	while (!ret && (ret = point_chan_try_recv(&c, &pt)) == 0)
		printf("received point %s = (%d, %d)\n", pt.label, pt.x, pt.y);
	point_chan_close(&c);
	chan_destroy(id);
	/* The queue is empty once every point has been received. */
	return ret == -EAGAIN ? 0 : fail("send/recv", ret);
}
