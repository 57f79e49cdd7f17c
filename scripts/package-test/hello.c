// SPDX-License-Identifier: MIT
/*
 * The program scripts/package-test.sh compiles inside the guest, as an
 * unprivileged user, with `cc hello.c $(pkg-config --cflags --libs
 * libchan)`: a channel through the kernel path and a mappable one through
 * endpoint handles (the fast path), each sending and receiving a message.
 * Prints "hello: ok" and exits 0 when both round trips return the message.
 */
#include <libchan.h>
#include <stdio.h>
#include <string.h>

static int fail(const char *what, long ret)
{
	fprintf(stderr, "hello: %s: %s\n", what, strerror((int)-ret));
	return 1;
}

int main(void)
{
	static const char msg[] = "hello through chan";
	struct chan_attr a = { .msg_size = 64, .capacity = 4, .mode = 0600 };
	struct chan_ep *ep;
	char buf[64];
	uint32_t id;
	ssize_t n;
	int fd, ret;

	ret = chan_create(&a, &id);
	if (ret < 0)
		return fail("chan_create", ret);
	fd = chan_open(id, CHAN_ROLE_SEND | CHAN_ROLE_RECV, CHAN_OPEN_CLOEXEC);
	if (fd < 0)
		return fail("chan_open", fd);
	ret = chan_send(fd, msg, sizeof(msg));
	if (ret < 0)
		return fail("chan_send", ret);
	n = chan_recv(fd, buf, sizeof(buf));
	if (n < 0)
		return fail("chan_recv", n);
	if (n != sizeof(msg) || memcmp(buf, msg, sizeof(msg))) {
		fprintf(stderr, "hello: kernel path: wrong message\n");
		return 1;
	}
	chan_close(fd);
	chan_destroy(id);

	a.flags = CHAN_CREATE_MAPPABLE;
	ret = chan_create(&a, &id);
	if (ret < 0)
		return fail("chan_create (mappable)", ret);
	ret = chan_ep_open(&ep, id, CHAN_ROLE_SEND | CHAN_ROLE_RECV, 0);
	if (ret < 0)
		return fail("chan_ep_open", ret);
	if (chan_ep_mapped(ep) <= 0) {
		fprintf(stderr, "hello: the endpoint did not map the ring\n");
		return 1;
	}
	ret = chan_ep_send(ep, msg, sizeof(msg));
	if (ret < 0)
		return fail("chan_ep_send", ret);
	n = chan_ep_recv(ep, buf, sizeof(buf));
	if (n < 0)
		return fail("chan_ep_recv", n);
	if (n != sizeof(msg) || memcmp(buf, msg, sizeof(msg))) {
		fprintf(stderr, "hello: fast path: wrong message\n");
		return 1;
	}
	chan_ep_close(ep);
	chan_destroy(id);
	printf("hello: ok\n");
	return 0;
}
