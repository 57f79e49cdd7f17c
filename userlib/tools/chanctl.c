// SPDX-License-Identifier: MIT
/*
 * chanctl: create, list, describe, destroy, send to and receive from chan
 * channels from the shell, in the manner of ipcs(1) and ipcrm(1).
 *
 * Sending and receiving go by ID through /dev/chan, so chanctl never holds
 * an endpoint and never disconnects anybody's peers (and, being no
 * endpoint itself, is told EPIPE only by a closed channel: an empty
 * channel is just empty).
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libchan.h"

#define EXIT_USAGE	2

/* Receive buffer when the channel's msg_size cannot be read. */
#define RECV_BUF_DEFAULT	65536

static const char usage_text[] =
"usage: chanctl COMMAND [ARGS]\n"
"\n"
"  create [-n NAME] [-s MSG_SIZE] [-c CAPACITY] [-m MODE] [-a] [-M]\n"
"         [-t TYPE_TAG]\n"
"        create a channel and print its ID; MSG_SIZE defaults to 256 bytes,\n"
"        CAPACITY to 64 messages, MODE (octal) to 0600; -a destroys the\n"
"        channel when its last endpoint closes (once its owner has opened\n"
"        one); -M makes it mappable (the fast path: its users must trust\n"
"        one another); TYPE_TAG is a number\n"
"  ls    list the channels you may read\n"
"  info ID|NAME\n"
"        print every field the kernel reports about a channel\n"
"  rm ID|NAME...\n"
"        destroy channels: waiters get EIDRM, queued messages are discarded\n"
"  send ID|NAME [-t TIMEOUT_MS] [-N] [MESSAGE...]\n"
"        send each MESSAGE as one message (in batches of up to 1024 per\n"
"        system call), or with none each line of standard input (without\n"
"        its newline); -N fails instead of waiting; put -- before a\n"
"        MESSAGE that begins with '-'\n"
"  recv ID|NAME [-t TIMEOUT_MS] [-N] [-c COUNT]\n"
"        receive COUNT messages (default 1) and print each as its raw\n"
"        bytes followed by a newline; -c 0 drains: it prints what is\n"
"        queued and stops when none is left, without waiting (with -t,\n"
"        once no next message came within TIMEOUT_MS)\n"
"  call ID|NAME REPLY_ID|REPLY_NAME [-t TIMEOUT_MS] [-N] MESSAGE\n"
"        send MESSAGE, then receive one reply from the second channel and\n"
"        print it, in one system call\n"
"  help  print this text\n"
"\n"
"An all-digit ID|NAME is an ID, anything else a name. Exit status: 0 on\n"
"success, 1 on error, 2 on a usage error.\n";

static void usage(void)
{
	fputs(usage_text, stderr);
	exit(EXIT_USAGE);
}

static void __attribute__((format(printf, 1, 2))) usage_error(const char *fmt, ...);

static void usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("chanctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'chanctl help'.\n", stderr);
	exit(EXIT_USAGE);
}

/* Print "chanctl: <what>: <strerror(-err)>". */
static void print_error(const char *what, const char *arg, int err)
{
	if (arg)
		fprintf(stderr, "chanctl: %s %s: %s\n", what, arg, strerror(-err));
	else
		fprintf(stderr, "chanctl: %s: %s\n", what, strerror(-err));
}

static void __attribute__((noreturn)) die(const char *what, const char *arg,
					  int err)
{
	print_error(what, arg, err);
	exit(EXIT_FAILURE);
}

static unsigned long long parse_number(const char *s, int base,
				       unsigned long long max, const char *what)
{
	unsigned long long v;
	char *end;

	errno = 0;
	if (*s == '-')
		usage_error("bad %s: %s", what, s);
	v = strtoull(s, &end, base);
	if (errno || end == s || *end || v > max)
		usage_error("bad %s: %s", what, s);
	return v;
}

static int all_digits(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

/*
 * Open /dev/chan up front, once the arguments are known to be good: else a
 * missing device would read as "no such channel".
 */
static int need_dev(void)
{
	int fd = chan_dev_fd();

	if (fd < 0)
		die("open", "/dev/" CHAN_DEVICE_NAME, fd);
	return fd;
}

/*
 * An all-digit argument is an ID, anything else a name to look up.
 * Returns 0, or prints why not and returns -1.
 */
static int resolve(const char *arg, uint32_t *id)
{
	int ret;

	need_dev();
	if (all_digits(arg)) {
		*id = (uint32_t)parse_number(arg, 10, UINT32_MAX, "ID");
		return 0;
	}
	ret = chan_lookup(arg, id);
	if (ret) {
		print_error("lookup", arg, ret);
		return -1;
	}
	return 0;
}

static const char *state_string(uint32_t state, char *buf, size_t len)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} bits[] = {
		{ CHAN_STATE_DESTROYED, "destroyed" },
		{ CHAN_STATE_NO_SENDERS, "no-senders" },
		{ CHAN_STATE_NO_RECEIVERS, "no-receivers" },
	};
	size_t i, pos = 0;

	buf[0] = 0;
	for (i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
		if (!(state & bits[i].bit))
			continue;
		state &= ~bits[i].bit;
		pos += snprintf(buf + pos, len - pos, "%s%s", pos ? "," : "",
				bits[i].name);
		if (pos >= len)
			return buf;
	}
	if (state)
		snprintf(buf + pos, len - pos, "%s0x%x", pos ? "," : "", state);
	else if (!pos)
		snprintf(buf, len, "ok");
	return buf;
}

static int cmd_create(int argc, char **argv)
{
	struct chan_attr attr = { .msg_size = 256, .capacity = 64 };
	uint32_t id;
	int opt, ret;

	while ((opt = getopt(argc, argv, "+n:s:c:m:aMt:")) != -1) {
		switch (opt) {
		case 'n':
			attr.name = optarg;
			break;
		case 's':
			attr.msg_size = (uint32_t)parse_number(optarg, 0,
						UINT32_MAX, "message size");
			break;
		case 'c':
			attr.capacity = (uint32_t)parse_number(optarg, 0,
						UINT32_MAX, "capacity");
			break;
		case 'm':
			attr.mode = (uint32_t)parse_number(optarg, 8, 0777,
							   "mode");
			break;
		case 'a':
			attr.flags |= CHAN_CREATE_AUTODESTROY;
			break;
		case 'M':
			attr.flags |= CHAN_CREATE_MAPPABLE;
			break;
		case 't':
			attr.type_tag = parse_number(optarg, 0, UINT64_MAX,
						     "type tag");
			break;
		default:
			usage_error("create: bad option");
		}
	}
	if (optind != argc)
		usage_error("create: unexpected argument: %s", argv[optind]);
	need_dev();
	ret = chan_create(&attr, &id);
	if (ret)
		die("create", attr.name, ret);
	printf("%" PRIu32 "\n", id);
	return 0;
}

static int cmd_ls(int argc, char **argv)
{
	struct chan_info info;
	char state[64];
	uint32_t id = 1;
	int ret;

	(void)argv;
	if (argc > 1)
		usage_error("ls: unexpected argument: %s", argv[1]);
	need_dev();
	printf("%-10s %-20s %7s %7s %7s %4s %4s %-12s %4s %6s %12s %12s %8s\n",
	       "ID", "NAME", "MSGSZ", "CAP", "DEPTH", "SND", "RCV", "STATE",
	       "MODE", "UID", "SENT", "RECV", "DROPPED");
	for (;;) {
		ret = chan_info_next(id, &info);
		if (ret == -ENOENT)
			break;
		if (ret)
			die("info", NULL, ret);
		printf("%-10" PRIu32 " %-20s %7" PRIu32 " %7" PRIu32 " %7" PRIu32
		       " %4" PRIu32 " %4" PRIu32 " %-12s %04" PRIo32 " %6" PRIu32
		       " %12" PRIu64 " %12" PRIu64 " %8" PRIu64 "\n",
		       info.id, info.name[0] ? info.name : "-", info.msg_size,
		       info.capacity, info.depth, info.senders, info.receivers,
		       state_string(info.state, state, sizeof(state)),
		       info.mode, info.uid, (uint64_t)info.sent,
		       (uint64_t)info.received, (uint64_t)info.dropped);
		if (info.id < id || info.id == UINT32_MAX)
			break;
		id = info.id + 1;
	}
	return 0;
}

static int cmd_info(int argc, char **argv)
{
	struct chan_info info;
	char state[64];
	uint32_t id;
	int ret;

	if (argc != 2)
		usage_error("info: expected one ID or NAME");
	if (resolve(argv[1], &id))
		return EXIT_FAILURE;
	ret = chan_info(id, &info);
	if (ret)
		die("info", argv[1], ret);
	info.name[CHAN_NAME_MAX - 1] = 0;
	printf("id:         %" PRIu32 "\n", info.id);
	printf("name:       %s\n", info.name);
	printf("state:      %s\n", state_string(info.state, state, sizeof(state)));
	printf("flags:      0x%" PRIx32 "%s%s\n", info.chan_flags,
	       info.chan_flags & CHAN_CREATE_AUTODESTROY ? " autodestroy" : "",
	       info.chan_flags & CHAN_CREATE_MAPPABLE ? " mappable" : "");
	printf("mode:       %04" PRIo32 "\n", info.mode);
	printf("uid:        %" PRIu32 "\n", info.uid);
	printf("gid:        %" PRIu32 "\n", info.gid);
	printf("msg_size:   %" PRIu32 "\n", info.msg_size);
	printf("capacity:   %" PRIu32 "\n", info.capacity);
	printf("depth:      %" PRIu32 "\n", info.depth);
	printf("senders:    %" PRIu32 "\n", info.senders);
	printf("receivers:  %" PRIu32 "\n", info.receivers);
	printf("type_tag:   0x%016" PRIx64 "\n", (uint64_t)info.type_tag);
	printf("sent:       %" PRIu64 "\n", (uint64_t)info.sent);
	printf("received:   %" PRIu64 "\n", (uint64_t)info.received);
	printf("dropped:    %" PRIu64 "\n", (uint64_t)info.dropped);
	printf("discarded:  %" PRIu64 "\n", (uint64_t)info.discarded);
	printf("send_waits: %" PRIu64 "\n", (uint64_t)info.send_waits);
	printf("recv_waits: %" PRIu64 "\n", (uint64_t)info.recv_waits);
	return 0;
}

static int cmd_rm(int argc, char **argv)
{
	int i, ret, status = 0;
	uint32_t id;

	if (argc < 2)
		usage_error("rm: expected an ID or NAME");
	for (i = 1; i < argc; i++) {
		if (resolve(argv[i], &id)) {
			status = EXIT_FAILURE;
			continue;
		}
		ret = chan_destroy(id);
		if (ret) {
			print_error("rm", argv[i], ret);
			status = EXIT_FAILURE;
		}
	}
	return status;
}

/* Options shared by send and recv: -t TIMEOUT_MS and -N. */
struct msg_opts {
	unsigned int flags;
	uint64_t timeout_ns;
	unsigned long count;
};

static void parse_msg_opts(int argc, char **argv, const char *optstring,
			   struct msg_opts *o)
{
	unsigned long long ms;
	int opt;

	o->count = 1;
	while ((opt = getopt(argc, argv, optstring)) != -1) {
		switch (opt) {
		case 't':
			ms = parse_number(optarg, 10, UINT64_MAX / 1000000,
					  "timeout");
			o->flags |= CHAN_MSG_TIMEOUT;
			o->timeout_ns = ms * 1000000ULL;
			break;
		case 'N':
			o->flags |= CHAN_MSG_NONBLOCK;
			break;
		case 'c':
			o->count = (unsigned long)parse_number(optarg, 10,
						ULONG_MAX, "count");
			break;
		default:
			usage_error("%s: bad option", argv[0]);
		}
	}
	if ((o->flags & CHAN_MSG_TIMEOUT) && (o->flags & CHAN_MSG_NONBLOCK))
		usage_error("%s: -t and -N exclude each other", argv[0]);
}

/*
 * Send the messages given as arguments, as many per system call as a
 * batch takes: a batch waits only for its first message, so one that
 * stops early (the channel filled) is followed by the next, which waits.
 */
static int send_args(uint32_t id, const char *target, char **msgs, int n,
		     const struct msg_opts *o)
{
	struct chan_iov *vec = calloc((size_t)n, sizeof(*vec));
	int done = 0, i, ret;

	if (!vec)
		die("send", target, -ENOMEM);
	for (i = 0; i < n; i++) {
		vec[i].buf = (uintptr_t)msgs[i];
		vec[i].len = (uint32_t)strlen(msgs[i]);
	}
	while (done < n) {
		ret = chan_send_batch(need_dev(), id, vec + done,
				      n - done < CHAN_BATCH_MAX ?
				      (unsigned int)(n - done) : CHAN_BATCH_MAX,
				      o->flags, o->timeout_ns);
		if (ret < 0)
			die("send", target, ret);
		done += ret;
	}
	free(vec);
	return 0;
}

static int cmd_send(int argc, char **argv)
{
	struct msg_opts o = { 0 };
	const char *target;
	char *line = NULL;
	size_t line_cap = 0;
	ssize_t len;
	uint32_t id;
	int ret;

	if (argc < 2)
		usage_error("send: expected an ID or NAME");
	target = argv[1];
	/* The ID comes first; options and messages follow it. */
	argv[1] = argv[0];
	parse_msg_opts(argc - 1, argv + 1, "t:N", &o);
	argc -= 1;
	argv += 1;
	if (resolve(target, &id))
		return EXIT_FAILURE;

	if (optind < argc)
		return send_args(id, target, argv + optind, argc - optind, &o);
	while ((len = getline(&line, &line_cap, stdin)) >= 0) {
		if (len > 0 && line[len - 1] == '\n')
			len--;
		ret = chan_send_id(id, line, (size_t)len, o.flags,
				   o.timeout_ns);
		if (ret)
			die("send", target, ret);
	}
	if (ferror(stdin))
		die("read", "standard input", -errno);
	free(line);
	return 0;
}

static int cmd_recv(int argc, char **argv)
{
	struct msg_opts o = { 0 };
	struct chan_info info;
	const char *target;
	size_t cap = RECV_BUF_DEFAULT;
	unsigned long n;
	uint32_t id, msg_len;
	ssize_t len;
	char *buf, *bigger;
	int dev;

	if (argc < 2)
		usage_error("recv: expected an ID or NAME");
	target = argv[1];
	argv[1] = argv[0];
	parse_msg_opts(argc - 1, argv + 1, "t:Nc:", &o);
	if (optind < argc - 1)
		usage_error("recv: unexpected argument: %s", argv[optind + 1]);
	if (resolve(target, &id))
		return EXIT_FAILURE;
	dev = need_dev();

	/* INFO needs read permission, as receiving does; do without it. */
	if (!chan_info(id, &info) && info.msg_size)
		cap = info.msg_size;
	buf = malloc(cap);
	if (!buf)
		die("recv", target, -ENOMEM);
	/* Draining takes what is there: without -t it never waits. */
	if (o.count == 0 && !(o.flags & CHAN_MSG_TIMEOUT))
		o.flags |= CHAN_MSG_NONBLOCK;

	for (n = 0; o.count == 0 || n < o.count; n++) {
		len = chan_recvmsg(dev, id, buf, cap, o.flags, o.timeout_ns,
				   &msg_len);
		while (len == -EMSGSIZE && msg_len > cap) {
			/* The message stays queued: grow and take it again. */
			bigger = realloc(buf, msg_len);
			if (!bigger)
				die("recv", target, -ENOMEM);
			buf = bigger;
			cap = msg_len;
			len = chan_recvmsg(dev, id, buf, cap, o.flags,
					   o.timeout_ns, &msg_len);
		}
		/*
		 * Draining (-c 0) ends quietly where the messages end: none
		 * left (EAGAIN), none came in time (ETIMEDOUT), or the end of
		 * the stream (EPIPE, which an older kernel also gave ID-style
		 * receivers). Anything else, EIDRM included, is an error.
		 */
		if (o.count == 0 && (len == -EAGAIN || len == -ETIMEDOUT ||
				     len == -EPIPE))
			break;
		if (len < 0)
			die("recv", target, (int)len);
		if (fwrite(buf, 1, (size_t)len, stdout) != (size_t)len ||
		    putchar('\n') == EOF || fflush(stdout))
			die("write", "standard output", -errno);
	}
	free(buf);
	return 0;
}

static int cmd_call(int argc, char **argv)
{
	struct msg_opts o = { 0 };
	const char *target, *reply;
	uint32_t id, reply_id, len = 0;
	size_t cap = RECV_BUF_DEFAULT;
	struct chan_info info;
	ssize_t ret;
	char *buf;
	int sent = 0;

	if (argc < 3)
		usage_error("call: expected two IDs or NAMEs");
	target = argv[1];
	reply = argv[2];
	argv[2] = argv[0];
	parse_msg_opts(argc - 2, argv + 2, "t:N", &o);
	if (optind != argc - 3)
		usage_error("call: expected one MESSAGE");
	if (resolve(target, &id) || resolve(reply, &reply_id))
		return EXIT_FAILURE;
	if (!chan_info(reply_id, &info) && info.msg_size)
		cap = info.msg_size;
	buf = malloc(cap);
	if (!buf)
		die("call", target, -ENOMEM);
	ret = chan_callmsg(need_dev(), id, argv[2 + optind],
			   strlen(argv[2 + optind]), -1, reply_id, buf, cap,
			   o.flags, o.timeout_ns, &len, &sent);
	if (ret < 0)
		die(sent ? "call (request sent, no reply)" : "call",
		    sent ? reply : target, (int)ret);
	if (fwrite(buf, 1, (size_t)ret, stdout) != (size_t)ret ||
	    putchar('\n') == EOF || fflush(stdout))
		die("write", "standard output", -errno);
	free(buf);
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} commands[] = {
	{ "create", cmd_create },
	{ "ls", cmd_ls },
	{ "info", cmd_info },
	{ "rm", cmd_rm },
	{ "send", cmd_send },
	{ "recv", cmd_recv },
	{ "call", cmd_call },
};

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2)
		usage();
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "--help")) {
		fputs(usage_text, stdout);
		return 0;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			break;
	if (i == sizeof(commands) / sizeof(commands[0]))
		usage_error("unknown command: %s", argv[1]);
	return commands[i].fn(argc - 1, argv + 1);
}
