// SPDX-License-Identifier: MIT
/*
 * chanctl: create, list, describe, watch, destroy, send to and receive
 * from chan channels from the shell, in the manner of ipcs(1), ipcrm(1)
 * and top(1). ls, stat (alias info) and watch print JSON with --json.
 *
 * Sending and receiving go by ID through /dev/chan, so chanctl never holds
 * an endpoint and never disconnects anybody's peers (and, being no
 * endpoint itself, is told EPIPE only by a closed channel: an empty
 * channel is just empty).
 *
 * Exit status: 0 success, 1 an operation failed, 2 usage error, 3 no such
 * channel (ENOENT or EIDRM on a channel the command named).
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "libchan.h"

#define EXIT_USAGE	2
#define EXIT_NOCHAN	3	/* the channel named does not exist (any more) */

/* Receive buffer when the channel's msg_size cannot be read. */
#define RECV_BUF_DEFAULT	65536

static const char usage_text[] =
"usage: chanctl COMMAND [ARGS]\n"
"\n"
"  create [-n NAME] [-s MSG_SIZE] [-c CAPACITY] [-m MODE] [-a] [-M] [-C]\n"
"         [-S | -1 | -B | -L] [-t TYPE_TAG]\n"
"        create a channel and print its ID; MSG_SIZE defaults to 256 bytes,\n"
"        CAPACITY to 64 messages, MODE (octal) to 0600; -a destroys the\n"
"        channel when its last endpoint closes (once its owner has opened\n"
"        one); -M makes it mappable (the fast path: its users must trust\n"
"        one another); -C gives every message a CRC32C check (receivers\n"
"        skip and count corrupt ones); -S makes a byte stream, like a pipe\n"
"        (MSG_SIZE is its atomic write size; -M maps, -C is EINVAL); -1 makes\n"
"        it single-producer single-consumer (one sender and one receiver\n"
"        endpoint; send and recv then open an endpoint of their own); -B\n"
"        makes it a broadcast channel (every receiver gets every message;\n"
"        a slow one loses the oldest), -L a lossless broadcast channel\n"
"        (senders wait for the slowest receiver); TYPE_TAG is a number\n"
"  ls [--json]\n"
"        list the channels you may read: ID NAME OWNER GROUP PERMS MSGSIZE\n"
"        CAP DEPTH MAXD SEND RECV MODE FAST; MAXD is the highest depth since\n"
"        create or reset (stat's max_depth), SEND and RECV count the open\n"
"        sender and receiver endpoints, MODE is mpmc, spsc, stream, bcast or\n"
"        bcast+lossless (+crc: checked messages,\n"
"        +auto: destroyed with its last endpoint, +closed: closed for\n"
"        sending), FAST is - (not mappable), mappable, or mapped:N\n"
"        (N live mappings of the ring)\n"
"  stat ID|NAME [--json]   (alias: info)\n"
"        print every field the kernel reports about a channel\n"
"  watch [-i SECONDS] [-n COUNT] [--json] [ID|NAME...]\n"
"        every SECONDS (default 1, fractions allowed) show each channel's\n"
"        depth, sent/s, received/s, dropped/s, senders and receivers (all\n"
"        channels you may read, or those named); rates come from the\n"
"        counters' change over the measured interval and show as - for a\n"
"        channel's first sample. On a terminal, without -n, it redraws\n"
"        the screen until interrupted; otherwise it prints one block per\n"
"        sample, COUNT of them (default: until interrupted); --json prints\n"
"        one JSON object per sample, one per line\n"
"  rm ID|NAME...\n"
"        destroy channels: waiters get EIDRM, queued messages are discarded\n"
"  close ID|NAME...\n"
"        close channels for sending (you must own them): sends fail with\n"
"        EPIPE, receivers drain what is queued, then get EPIPE\n"
"  reopen ID|NAME...\n"
"        reopen closed channels (you must own them)\n"
"  reset ID|NAME...\n"
"        reset channels' statistics (you must own them): max_depth\n"
"        restarts from the current depth; the message counts go on\n"
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
"  On a byte stream (create -S), send writes each MESSAGE's bytes, or\n"
"  with none standard input's bytes as they are, in atomic pieces of the\n"
"  stream's MSG_SIZE; recv copies the stream's bytes as they are to\n"
"  standard output until the stream is closed and drained (-c COUNT: at\n"
"  most COUNT bytes; -N, -t or -c 0: also until nothing more is there,\n"
"  or came within TIMEOUT_MS), like cat(1)\n"
"  call ID|NAME REPLY_ID|REPLY_NAME [-t TIMEOUT_MS] [-N] MESSAGE\n"
"        send MESSAGE, then receive one reply from the second channel and\n"
"        print it, in one system call\n"
"  help  print this text\n"
"\n"
"An all-digit ID|NAME is an ID, anything else a name. In JSON, a name's\n"
"quotes, backslashes and control characters are escaped, and a byte\n"
"that is not part of valid UTF-8 is written as \\u00XX.\n"
"\n"
"Exit status: 0 success, 1 an operation failed, 2 usage error, 3 no such\n"
"channel (a channel named does not exist or was destroyed; rm gives 3\n"
"only if every failure was that).\n";

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

/* The exit status of an operation on a named channel that failed. */
static int chan_status(int err)
{
	return err == -ENOENT || err == -EIDRM ? EXIT_NOCHAN : EXIT_FAILURE;
}

/* die() for an operation on the channel the user named. */
static void __attribute__((noreturn)) die_chan(const char *what,
					       const char *arg, int err)
{
	print_error(what, arg, err);
	exit(chan_status(err));
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
 * Returns 0, or prints why not and returns the exit status (EXIT_NOCHAN
 * for a name that does not exist).
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
		return chan_status(ret);
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
		{ CHAN_STATE_CLOSED, "closed" },
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

	while ((opt = getopt(argc, argv, "+n:s:c:m:aMCS1BLt:")) != -1) {
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
		case 'C':
			attr.flags |= CHAN_CREATE_CRC32C;
			break;
		case 'S':
			attr.flags |= CHAN_CREATE_STREAM;
			break;
		case '1':
			attr.flags |= CHAN_CREATE_SPSC;
			break;
		case 'B':
			attr.flags |= CHAN_CREATE_BROADCAST;
			break;
		case 'L':
			attr.flags |= CHAN_CREATE_BROADCAST |
				      CHAN_CREATE_LOSSLESS;
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

/* ---- Describing channels ---- */

/* INFO, with every field this chanctl knows (struct chan_info v3). */
static int get_info(uint32_t id, uint32_t flags, struct chan_info *info)
{
	return chan_info_ex(-1, id, flags, info, sizeof(*info));
}

/* The channels the caller may read, in ID order. */
struct chan_list {
	struct chan_info *v;
	size_t n, cap;
};

static void list_add(struct chan_list *l, const struct chan_info *info)
{
	struct chan_info *v;

	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 16;
		v = realloc(l->v, l->cap * sizeof(*v));
		if (!v)
			die("list", NULL, -ENOMEM);
		l->v = v;
	}
	l->v[l->n++] = *info;
}

/* Fill @l (emptied first) with every channel the caller may read. */
static int list_all(struct chan_list *l)
{
	struct chan_info info;
	uint32_t id = 1;
	int ret;

	l->n = 0;
	for (;;) {
		ret = get_info(id, CHAN_INFO_NEXT, &info);
		if (ret == -ENOENT)
			return 0;
		if (ret)
			return ret;
		list_add(l, &info);
		if (info.id < id || info.id == UINT32_MAX)
			return 0;
		id = info.id + 1;
	}
}

/* A name for text output: printable ASCII as is, other bytes as \xHH. */
static const char *name_text(const char *name, char *buf, size_t len)
{
	const unsigned char *s = (const unsigned char *)name;
	size_t i, pos = 0;

	if (!s[0])
		return "-";
	for (i = 0; i < CHAN_NAME_MAX && s[i] && pos + 5 <= len; i++) {
		if (s[i] > 0x20 && s[i] < 0x7f)
			buf[pos++] = (char)s[i];
		else
			pos += (size_t)snprintf(buf + pos, len - pos, "\\x%02x",
						s[i]);
	}
	buf[pos] = 0;
	return buf;
}

/* Owner and group names, or their numbers (a static binary often has no
 * NSS to ask). The last answer of each is kept.
 */
static const char *user_name(uint32_t uid)
{
	static char buf[64];
	static uint32_t last;
	static bool valid;
	struct passwd *pw;

	if (valid && last == uid)
		return buf;
	pw = getpwuid((uid_t)uid);
	if (pw && pw->pw_name && pw->pw_name[0])
		snprintf(buf, sizeof(buf), "%s", pw->pw_name);
	else
		snprintf(buf, sizeof(buf), "%" PRIu32, uid);
	last = uid;
	valid = true;
	return buf;
}

static const char *group_name(uint32_t gid)
{
	static char buf[64];
	static uint32_t last;
	static bool valid;
	struct group *gr;

	if (valid && last == gid)
		return buf;
	gr = getgrgid((gid_t)gid);
	if (gr && gr->gr_name && gr->gr_name[0])
		snprintf(buf, sizeof(buf), "%s", gr->gr_name);
	else
		snprintf(buf, sizeof(buf), "%" PRIu32, gid);
	last = gid;
	valid = true;
	return buf;
}

/*
 * MODE: the channel's kind (mpmc, or stream for a byte stream), then
 * "+crc" if its messages are checked,
 * "+auto" if it goes with its last endpoint, "+closed" once it was closed
 * for sending (its state, shown here because ls has no state column).
 */
static const char *mode_text(const struct chan_info *info, char *buf,
			     size_t len)
{
	const char *kind = "mpmc";

	if (info->chan_flags & CHAN_CREATE_SPSC)
		kind = "spsc";
	if (info->chan_flags & CHAN_CREATE_STREAM)
		kind = "stream";
	if (info->chan_flags & CHAN_CREATE_BROADCAST)
		kind = info->chan_flags & CHAN_CREATE_LOSSLESS ?
		       "bcast+lossless" : "bcast";
	snprintf(buf, len, "%s%s%s%s", kind,
		 info->chan_flags & CHAN_CREATE_CRC32C ? "+crc" : "",
		 info->chan_flags & CHAN_CREATE_AUTODESTROY ? "+auto" : "",
		 info->state & CHAN_STATE_CLOSED ? "+closed" : "");
	return buf;
}

/* FAST: "-", "mappable" or "mapped:N". */
static const char *fast_text(const struct chan_info *info, char *buf,
			     size_t len)
{
	if (!(info->chan_flags & CHAN_CREATE_MAPPABLE))
		return "-";
	if (!info->mappers)
		return "mappable";
	snprintf(buf, len, "mapped:%" PRIu32, info->mappers);
	return buf;
}

/* ---- JSON ---- */

/* Length of the valid UTF-8 sequence at s (n bytes there), else 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates, beyond U+10FFFF. */
	if ((len == 3 && cp < 0x800) || (cp >= 0xd800 && cp <= 0xdfff) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

/*
 * Print at most max bytes of str (up to a NUL) as a JSON string. A name
 * may hold any byte but NUL: '"' and '\\' are escaped, control characters
 * and DEL become \u00XX, valid UTF-8 passes through, and a byte that is
 * not part of valid UTF-8 is written as \u00XX too (read as Latin-1), so
 * the output is always valid JSON.
 */
static void json_string(const char *str, size_t max)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, n = strnlen(str, max), len;

	putchar('"');
	while (i < n) {
		if (s[i] == '"' || s[i] == '\\') {
			putchar('\\');
			putchar(s[i++]);
		} else if (s[i] < 0x20 || s[i] == 0x7f) {
			printf("\\u%04x", s[i++]);
		} else {
			len = utf8_len(s + i, n - i);
			if (len) {
				fwrite(s + i, 1, len, stdout);
				i += len;
			} else {
				printf("\\u%04x", s[i++]);
			}
		}
	}
	putchar('"');
}

/*
 * One channel as ls --json (an array of them) and stat --json print it:
 * every INFO field by its struct chan_info name (id, name, state,
 * chan_flags, mode, uid, gid, msg_size, capacity, depth, senders,
 * receivers, mappers, type_tag, sent, received, dropped, discarded,
 * send_waits, recv_waits; numbers in decimal, name a string), and for
 * reading: state_text ("ok" or a comma list), autodestroy and mappable
 * (booleans), perms (octal, a string), owner and group (names, or the
 * numbers as strings), kind (ls's MODE) and fast (ls's FAST).
 */
static void json_info(const struct chan_info *info)
{
	char state[64], fast[32], mode[32];

	printf("{\"id\":%" PRIu32 ",\"name\":", info->id);
	json_string(info->name, CHAN_NAME_MAX);
	printf(",\"state\":%" PRIu32 ",\"state_text\":\"%s\"", info->state,
	       state_string(info->state, state, sizeof(state)));
	printf(",\"chan_flags\":%" PRIu32 ",\"autodestroy\":%s"
	       ",\"mappable\":%s,\"crc32c\":%s,\"mode\":%" PRIu32
	       ",\"perms\":\"%04" PRIo32 "\"", info->chan_flags,
	       info->chan_flags & CHAN_CREATE_AUTODESTROY ? "true" : "false",
	       info->chan_flags & CHAN_CREATE_MAPPABLE ? "true" : "false",
	       info->chan_flags & CHAN_CREATE_CRC32C ? "true" : "false",
	       info->mode, info->mode);
	printf(",\"uid\":%" PRIu32 ",\"owner\":", info->uid);
	json_string(user_name(info->uid), 64);
	printf(",\"gid\":%" PRIu32 ",\"group\":", info->gid);
	json_string(group_name(info->gid), 64);
	printf(",\"msg_size\":%" PRIu32 ",\"capacity\":%" PRIu32
	       ",\"depth\":%" PRIu32 ",\"senders\":%" PRIu32
	       ",\"receivers\":%" PRIu32 ",\"mappers\":%" PRIu32
	       ",\"kind\":\"%s\",\"fast\":\"%s\"",
	       info->msg_size, info->capacity, info->depth, info->senders,
	       info->receivers, info->mappers,
	       mode_text(info, mode, sizeof(mode)),
	       fast_text(info, fast, sizeof(fast)));
	printf(",\"type_tag\":%" PRIu64 ",\"sent\":%" PRIu64
	       ",\"received\":%" PRIu64 ",\"dropped\":%" PRIu64
	       ",\"discarded\":%" PRIu64 ",\"send_waits\":%" PRIu64
	       ",\"recv_waits\":%" PRIu64 ",\"corrupt\":%" PRIu64
	       ",\"max_depth\":%" PRIu32 ",\"lost\":%" PRIu64 "}",
	       (uint64_t)info->type_tag, (uint64_t)info->sent,
	       (uint64_t)info->received, (uint64_t)info->dropped,
	       (uint64_t)info->discarded, (uint64_t)info->send_waits,
	       (uint64_t)info->recv_waits, (uint64_t)info->corrupt,
	       info->max_depth, (uint64_t)info->lost);
}

/* Everything printed must have reached standard output. */
static int flush_stdout(void)
{
	if (fflush(stdout) || ferror(stdout))
		die("write", "standard output", -(errno ? errno : EIO));
	return 0;
}

/* Parse the options of a command that takes only --json. */
static bool parse_json_only(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	bool json = false;
	int opt;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt != 'j')
			usage_error("%s: bad option", argv[0]);
		json = true;
	}
	return json;
}

static int cmd_ls(int argc, char **argv)
{
	struct chan_list l = { 0 };
	char name[4 * CHAN_NAME_MAX + 1], perms[8], fast[32], mode[32];
	bool json = parse_json_only(argc, argv);
	size_t i;
	int ret;

	if (optind < argc)
		usage_error("ls: unexpected argument: %s", argv[optind]);
	need_dev();
	ret = list_all(&l);
	if (ret)
		die("ls", NULL, ret);
	if (json) {
		putchar('[');
		for (i = 0; i < l.n; i++) {
			if (i)
				putchar(',');
			json_info(&l.v[i]);
		}
		puts("]");
		free(l.v);
		return flush_stdout();
	}
	printf("%-10s %-20s %-10s %-10s %5s %7s %7s %7s %7s %4s %4s %-9s %s\n",
	       "ID", "NAME", "OWNER", "GROUP", "PERMS", "MSGSIZE", "CAP",
	       "DEPTH", "MAXD", "SEND", "RECV", "MODE", "FAST");
	for (i = 0; i < l.n; i++) {
		const struct chan_info *info = &l.v[i];

		snprintf(perms, sizeof(perms), "%03" PRIo32, info->mode);
		printf("%-10" PRIu32 " %-20s %-10s", info->id,
		       name_text(info->name, name, sizeof(name)),
		       user_name(info->uid));
		printf(" %-10s %5s %7" PRIu32 " %7" PRIu32 " %7" PRIu32
		       " %7" PRIu32 " %4" PRIu32 " %4" PRIu32 " %-9s %s\n",
		       group_name(info->gid), perms, info->msg_size,
		       info->capacity, info->depth, info->max_depth,
		       info->senders,
		       info->receivers, mode_text(info, mode, sizeof(mode)),
		       fast_text(info, fast, sizeof(fast)));
	}
	free(l.v);
	return flush_stdout();
}

static int cmd_stat(int argc, char **argv)
{
	char name[4 * CHAN_NAME_MAX + 1], state[64], fast[32];
	bool json = parse_json_only(argc, argv);
	struct chan_info info;
	uint32_t id;
	int ret;

	if (optind != argc - 1)
		usage_error("%s: expected one ID or NAME", argv[0]);
	ret = resolve(argv[optind], &id);
	if (ret)
		return ret;
	ret = get_info(id, 0, &info);
	if (ret)
		die_chan(argv[0], argv[optind], ret);
	if (json) {
		json_info(&info);
		putchar('\n');
		return flush_stdout();
	}
	printf("id:         %" PRIu32 "\n", info.id);
	printf("name:       %s\n", info.name[0] ?
	       name_text(info.name, name, sizeof(name)) : "");
	printf("state:      %s\n", state_string(info.state, state, sizeof(state)));
	printf("flags:      0x%" PRIx32 "%s%s%s%s%s%s\n", info.chan_flags,
	       info.chan_flags & CHAN_CREATE_AUTODESTROY ? " autodestroy" : "",
	       info.chan_flags & CHAN_CREATE_MAPPABLE ? " mappable" : "",
	       info.chan_flags & CHAN_CREATE_CRC32C ? " crc32c" : "",
	       info.chan_flags & CHAN_CREATE_BROADCAST ? " broadcast" : "",
	       info.chan_flags & CHAN_CREATE_LOSSLESS ? " lossless" : "",
	       info.chan_flags & CHAN_CREATE_STREAM ? " stream" : "");
	printf("mode:       %04" PRIo32 "\n", info.mode);
	printf("uid:        %" PRIu32 " (%s)\n", info.uid, user_name(info.uid));
	printf("gid:        %" PRIu32 " (%s)\n", info.gid, group_name(info.gid));
	printf("msg_size:   %" PRIu32 "\n", info.msg_size);
	printf("capacity:   %" PRIu32 "\n", info.capacity);
	printf("depth:      %" PRIu32 "\n", info.depth);
	printf("max_depth:  %" PRIu32 "\n", info.max_depth);
	printf("senders:    %" PRIu32 "\n", info.senders);
	printf("receivers:  %" PRIu32 "\n", info.receivers);
	printf("mappers:    %" PRIu32 " (%s)\n", info.mappers,
	       fast_text(&info, fast, sizeof(fast)));
	printf("type_tag:   0x%016" PRIx64 "\n", (uint64_t)info.type_tag);
	printf("sent:       %" PRIu64 "\n", (uint64_t)info.sent);
	printf("received:   %" PRIu64 "\n", (uint64_t)info.received);
	printf("dropped:    %" PRIu64 "\n", (uint64_t)info.dropped);
	printf("discarded:  %" PRIu64 "\n", (uint64_t)info.discarded);
	printf("send_waits: %" PRIu64 "\n", (uint64_t)info.send_waits);
	printf("recv_waits: %" PRIu64 "\n", (uint64_t)info.recv_waits);
	printf("corrupt:    %" PRIu64 "\n", (uint64_t)info.corrupt);
	printf("lost:       %" PRIu64 "\n", (uint64_t)info.lost);
	return flush_stdout();
}

/* ---- watch ---- */

#define WATCH_INTERVAL_MAX	86400.0

/* A channel's counters at the previous sample. */
struct watch_prev {
	uint32_t id;
	uint64_t sent, received, dropped;
};

/* A sample: the channels seen (and, by name, those gone), and when. */
struct watch_sample {
	struct chan_list l;
	uint32_t *gone;
	size_t ngone;
	struct timespec at;
};

static volatile sig_atomic_t watch_stop;

static void watch_signal(int sig)
{
	(void)sig;
	watch_stop = 1;
}

static double ts_diff(const struct timespec *a, const struct timespec *b)
{
	return (double)(a->tv_sec - b->tv_sec) +
	       (double)(a->tv_nsec - b->tv_nsec) / 1e9;
}

static int prev_cmp(const void *a, const void *b)
{
	const struct watch_prev *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/*
 * The rates of @info since @prev (sorted by ID) over @dt seconds; false
 * if there is nothing to compare with: a channel new since the last
 * sample, or a counter that went back (its ID now names another channel).
 */
static bool watch_rates(const struct chan_info *info,
			const struct watch_prev *prev, size_t nprev, double dt,
			double rate[3])
{
	struct watch_prev key = { .id = info->id };
	const struct watch_prev *p;

	if (dt <= 0)
		return false;
	p = bsearch(&key, prev, nprev, sizeof(*prev), prev_cmp);
	if (!p || info->sent < p->sent || info->received < p->received ||
	    info->dropped < p->dropped)
		return false;
	rate[0] = (double)(info->sent - p->sent) / dt;
	rate[1] = (double)(info->received - p->received) / dt;
	rate[2] = (double)(info->dropped - p->dropped) / dt;
	return true;
}

/*
 * One line per sample: {"sample":N, "time":CLOCK_MONOTONIC seconds,
 * "interval": seconds since the last sample (null for the first),
 * "channels":[{id, name, depth, capacity, senders, receivers, sent,
 * received, dropped, sent_per_s, received_per_s, dropped_per_s (null
 * where there is no earlier sample of the channel)}], "gone":[the IDs
 * named on the command line that no longer exist]}.
 */
static void watch_print_json(const struct watch_sample *s,
			     const struct watch_prev *prev, size_t nprev,
			     double dt, unsigned long n)
{
	double rate[3];
	bool known;
	size_t i;

	printf("{\"sample\":%lu,\"time\":%.3f,\"interval\":", n,
	       (double)s->at.tv_sec + (double)s->at.tv_nsec / 1e9);
	if (dt > 0)
		printf("%.3f", dt);
	else
		fputs("null", stdout);
	fputs(",\"channels\":[", stdout);
	for (i = 0; i < s->l.n; i++) {
		const struct chan_info *info = &s->l.v[i];

		known = watch_rates(info, prev, nprev, dt, rate);
		printf("%s{\"id\":%" PRIu32 ",\"name\":", i ? "," : "",
		       info->id);
		json_string(info->name, CHAN_NAME_MAX);
		printf(",\"depth\":%" PRIu32 ",\"capacity\":%" PRIu32
		       ",\"senders\":%" PRIu32 ",\"receivers\":%" PRIu32
		       ",\"sent\":%" PRIu64 ",\"received\":%" PRIu64
		       ",\"dropped\":%" PRIu64,
		       info->depth, info->capacity, info->senders,
		       info->receivers, (uint64_t)info->sent,
		       (uint64_t)info->received, (uint64_t)info->dropped);
		if (known)
			printf(",\"sent_per_s\":%.3f,\"received_per_s\":%.3f"
			       ",\"dropped_per_s\":%.3f}",
			       rate[0], rate[1], rate[2]);
		else
			fputs(",\"sent_per_s\":null,\"received_per_s\":null"
			      ",\"dropped_per_s\":null}", stdout);
	}
	fputs("],\"gone\":[", stdout);
	for (i = 0; i < s->ngone; i++)
		printf("%s%" PRIu32, i ? "," : "", s->gone[i]);
	puts("]}");
}

static void watch_print_text(const struct watch_sample *s,
			     const struct watch_prev *prev, size_t nprev,
			     double dt, unsigned long n, double interval,
			     bool redraw)
{
	char name[4 * CHAN_NAME_MAX + 1], r[3][32];
	double rate[3];
	size_t i, k;

	if (redraw)
		fputs("\033[H\033[2J", stdout);
	else if (n > 1)
		putchar('\n');
	printf("chanctl watch: sample %lu, every %.3g s, %zu channel%s",
	       n, interval, s->l.n, s->l.n == 1 ? "" : "s");
	if (dt > 0)
		printf(", rates over %.3f s\n", dt);
	else
		putchar('\n');
	printf("%-10s %-20s %7s %12s %12s %12s %4s %4s\n", "ID", "NAME",
	       "DEPTH", "SENT/s", "RECV/s", "DROP/s", "SEND", "RECV");
	for (i = 0; i < s->l.n; i++) {
		const struct chan_info *info = &s->l.v[i];

		if (watch_rates(info, prev, nprev, dt, rate)) {
			for (k = 0; k < 3; k++)
				snprintf(r[k], sizeof(r[k]), "%.1f", rate[k]);
		} else {
			for (k = 0; k < 3; k++)
				snprintf(r[k], sizeof(r[k]), "-");
		}
		printf("%-10" PRIu32 " %-20s %7" PRIu32 " %12s %12s %12s %4"
		       PRIu32 " %4" PRIu32 "\n", info->id,
		       name_text(info->name, name, sizeof(name)), info->depth,
		       r[0], r[1], r[2], info->senders, info->receivers);
	}
	for (i = 0; i < s->ngone; i++)
		printf("%-10" PRIu32 " (gone)\n", s->gone[i]);
}

/*
 * Take a sample: every readable channel, or the channels named (@ids),
 * those that no longer exist listed as gone. Returns 0 or -errno (an
 * error other than a channel's disappearance, e.g. EACCES), *bad the
 * index of the channel that failed.
 */
static int watch_take(struct watch_sample *s, const uint32_t *ids,
		      size_t nids, size_t *bad)
{
	struct chan_info info;
	size_t i;
	int ret;

	s->l.n = 0;
	s->ngone = 0;
	if (!nids)
		ret = list_all(&s->l);
	else
		ret = 0;
	for (i = 0; i < nids && !ret; i++) {
		ret = get_info(ids[i], 0, &info);
		if (!ret) {
			list_add(&s->l, &info);
		} else if (ret == -ENOENT || ret == -EIDRM) {
			s->gone[s->ngone++] = ids[i];
			ret = 0;
		} else {
			*bad = i;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &s->at);
	return ret;
}

/* Remember @s's counters, sorted by ID, for the next sample's rates. */
static struct watch_prev *watch_remember(const struct watch_sample *s,
					 struct watch_prev *prev,
					 size_t *nprev)
{
	size_t i;

	prev = realloc(prev, (s->l.n ? s->l.n : 1) * sizeof(*prev));
	if (!prev)
		die("watch", NULL, -ENOMEM);
	for (i = 0; i < s->l.n; i++) {
		prev[i].id = s->l.v[i].id;
		prev[i].sent = s->l.v[i].sent;
		prev[i].received = s->l.v[i].received;
		prev[i].dropped = s->l.v[i].dropped;
	}
	*nprev = s->l.n;
	qsort(prev, *nprev, sizeof(*prev), prev_cmp);
	return prev;
}

/*
 * Sleep until @next (CLOCK_MONOTONIC), or until SIGINT or SIGTERM, which
 * are blocked outside of this wait so that none is missed between the
 * check of watch_stop and the sleep.
 */
static void watch_sleep(const struct timespec *next, const sigset_t *unblocked)
{
	struct timespec now, left;

	while (!watch_stop) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (ts_diff(next, &now) <= 0)
			return;
		left.tv_sec = next->tv_sec - now.tv_sec;
		left.tv_nsec = next->tv_nsec - now.tv_nsec;
		if (left.tv_nsec < 0) {
			left.tv_nsec += 1000000000L;
			left.tv_sec--;
		}
		ppoll(NULL, 0, &left, unblocked);
	}
}

static int cmd_watch(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct watch_sample s = { .gone = NULL };
	struct watch_prev *prev = NULL;
	struct timespec next, last = { 0 };
	sigset_t block, unblocked;
	struct sigaction sa;
	unsigned long count = 0, n;
	double interval = 1.0, dt;
	bool json = false, redraw;
	size_t nids = 0, nprev = 0, bad = 0;
	uint32_t *ids = NULL;
	char *end;
	int opt, ret, i;

	while ((opt = getopt_long(argc, argv, "i:n:", opts, NULL)) != -1) {
		switch (opt) {
		case 'i':
			errno = 0;
			interval = strtod(optarg, &end);
			if (errno || end == optarg || *end ||
			    !(interval >= 0.01 && interval <= WATCH_INTERVAL_MAX))
				usage_error("watch: bad interval: %s (0.01 to %.0f seconds)",
					    optarg, WATCH_INTERVAL_MAX);
			break;
		case 'n':
			count = (unsigned long)parse_number(optarg, 10,
							    ULONG_MAX, "count");
			if (!count)
				usage_error("watch: bad count: %s", optarg);
			break;
		case 'j':
			json = true;
			break;
		default:
			usage_error("watch: bad option");
		}
	}
	need_dev();
	if (optind < argc) {
		nids = (size_t)(argc - optind);
		ids = calloc(nids, sizeof(*ids));
		s.gone = calloc(nids, sizeof(*s.gone));
		if (!ids || !s.gone)
			die("watch", NULL, -ENOMEM);
		for (i = optind; i < argc; i++) {
			ret = resolve(argv[i], &ids[i - optind]);
			if (ret)
				return ret;
		}
	}
	/* A redrawn screen only where someone looks at it, for good. */
	redraw = !json && !count && isatty(STDOUT_FILENO);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = watch_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &unblocked);
	sigdelset(&unblocked, SIGINT);
	sigdelset(&unblocked, SIGTERM);

	clock_gettime(CLOCK_MONOTONIC, &next);
	for (n = 1; !watch_stop; n++) {
		ret = watch_take(&s, ids, nids, &bad);
		if (ret) {
			if (nids)
				die("watch", argv[optind + (int)bad], ret);
			die("watch", NULL, ret);
		}
		/* The first sample of a named channel that is not there. */
		if (n == 1 && s.ngone) {
			for (i = 0; i < (int)nids; i++)
				if (ids[i] == s.gone[0])
					break;
			die_chan("watch", argv[optind + i], -ENOENT);
		}
		dt = n > 1 ? ts_diff(&s.at, &last) : 0;
		if (json)
			watch_print_json(&s, prev, nprev, dt, n);
		else
			watch_print_text(&s, prev, nprev, dt, n, interval,
					 redraw);
		flush_stdout();
		prev = watch_remember(&s, prev, &nprev);
		last = s.at;
		if (count && n >= count)
			break;
		/* Keep the beat; after a stall (a stopped task), start anew. */
		next.tv_sec += (time_t)interval;
		next.tv_nsec += (long)((interval - (double)(time_t)interval) *
				       1e9);
		if (next.tv_nsec >= 1000000000L) {
			next.tv_nsec -= 1000000000L;
			next.tv_sec++;
		}
		if (ts_diff(&next, &s.at) < 0)
			next = s.at;
		watch_sleep(&next, &unblocked);
	}
	free(prev);
	free(s.l.v);
	free(s.gone);
	free(ids);
	return 0;
}

/*
 * Apply op to every channel named, whatever fails on the way: the status
 * is EXIT_NOCHAN if every failure was a missing channel, else
 * EXIT_FAILURE.
 */
static int each_channel(int argc, char **argv, int (*op)(uint32_t id))
{
	bool failed = false, missing = false;
	int i, ret;
	uint32_t id;

	if (argc < 2)
		usage_error("%s: expected an ID or NAME", argv[0]);
	for (i = 1; i < argc; i++) {
		ret = resolve(argv[i], &id);
		if (!ret) {
			ret = op(id);
			if (ret) {
				print_error(argv[0], argv[i], ret);
				ret = chan_status(ret);
			}
		}
		if (ret == EXIT_NOCHAN)
			missing = true;
		else if (ret)
			failed = true;
	}
	if (failed)
		return EXIT_FAILURE;
	return missing ? EXIT_NOCHAN : 0;
}

static int cmd_rm(int argc, char **argv)
{
	return each_channel(argc, argv, chan_destroy);
}

static int close_by_id(uint32_t id)
{
	return chan_close_channel(-1, id, 0);
}

static int reopen_by_id(uint32_t id)
{
	return chan_close_channel(-1, id, CHAN_CLOSE_REOPEN);
}

/*
 * Close channels for sending (CHAN_IOC_CLOSE), or reopen them, by ID,
 * which needs the owner. A channel closed (open) already is an error
 * (EALREADY), so a script learns it was not the one to change it.
 */
static int reset_by_id(uint32_t id)
{
	return chan_reset_stats(-1, id);
}

/* Reset channels' statistics (their max_depth), which needs the owner. */
static int cmd_reset(int argc, char **argv)
{
	return each_channel(argc, argv, reset_by_id);
}

static int cmd_close(int argc, char **argv)
{
	return each_channel(argc, argv, close_by_id);
}

static int cmd_reopen(int argc, char **argv)
{
	return each_channel(argc, argv, reopen_by_id);
}

/* Options shared by send and recv: -t TIMEOUT_MS and -N. */
struct msg_opts {
	unsigned int flags;
	uint64_t timeout_ns;
	unsigned long count;
	bool count_set;
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
			o->count_set = true;
			break;
		default:
			usage_error("%s: bad option", argv[0]);
		}
	}
	if ((o->flags & CHAN_MSG_TIMEOUT) && (o->flags & CHAN_MSG_NONBLOCK))
		usage_error("%s: -t and -N exclude each other", argv[0]);
}

/*
 * Where send and recv move messages: by ID through /dev/chan, except on a
 * CHAN_CREATE_SPSC channel, used only through its two endpoints: there an
 * endpoint of @role is opened for the command (EBUSY if the channel has
 * one already) and *id becomes 0, the channel fd's own.
 */
static int msg_fd(uint32_t *id, uint32_t role, const char *what,
		  const char *target)
{
	struct chan_info info;
	int fd;

	if (get_info(*id, 0, &info) ||
	    !(info.chan_flags & CHAN_CREATE_SPSC))
		return need_dev();
	fd = chan_open(*id, role, CHAN_OPEN_CLOEXEC);
	if (fd < 0)
		die_chan(what, target, fd);
	*id = 0;
	return fd;
}

/*
 * Send the messages given as arguments, as many per system call as a
 * batch takes: a batch waits only for its first message, so one that
 * stops early (the channel filled) is followed by the next, which waits.
 */
static int send_args(int fd, uint32_t id, const char *target, char **msgs,
		     int n, const struct msg_opts *o)
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
		ret = chan_send_batch(fd, id, vec + done,
				      n - done < CHAN_BATCH_MAX ?
				      (unsigned int)(n - done) : CHAN_BATCH_MAX,
				      o->flags, o->timeout_ns);
		if (ret < 0)
			die_chan("send", target, ret);
		done += ret;
	}
	free(vec);
	return 0;
}

/* Is the channel a byte stream? (INFO needs read permission: else no.) */
static bool is_stream(uint32_t id)
{
	struct chan_info info;

	return !chan_info(id, &info) &&
	       (info.chan_flags & CHAN_CREATE_STREAM);
}

/* The atomic write size of a stream, or a safe guess without INFO. */
static uint32_t stream_piece(uint32_t id)
{
	struct chan_info info;

	if (!chan_info(id, &info) && info.msg_size)
		return info.msg_size;
	return 1;
}

/* Write len bytes to a stream by ID, in atomic pieces. */
static void send_stream_bytes(uint32_t id, const char *target,
			      const char *p, size_t len, uint32_t piece,
			      const struct msg_opts *o)
{
	size_t n;
	int ret;

	while (len) {
		n = len < piece ? len : piece;
		ret = chan_send_id(id, p, n, o->flags, o->timeout_ns);
		if (ret)
			die_chan("send", target, ret);
		p += n;
		len -= n;
	}
}

/*
 * send on a byte stream: each MESSAGE's bytes, or standard input's, as
 * they are (no newline added or taken away).
 */
static int send_stream(uint32_t id, const char *target, char **msgs, int n,
		       const struct msg_opts *o)
{
	uint32_t piece = stream_piece(id);
	char *buf;
	size_t len;
	int i;

	for (i = 0; i < n; i++)
		send_stream_bytes(id, target, msgs[i], strlen(msgs[i]), piece,
				  o);
	if (n)
		return 0;
	buf = malloc(piece);
	if (!buf)
		die("send", target, -ENOMEM);
	while ((len = fread(buf, 1, piece, stdin)) > 0)
		send_stream_bytes(id, target, buf, len, piece, o);
	if (ferror(stdin))
		die("read", "standard input", -errno);
	free(buf);
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
	int fd, ret;

	if (argc < 2)
		usage_error("send: expected an ID or NAME");
	target = argv[1];
	/* The ID comes first; options and messages follow it. */
	argv[1] = argv[0];
	parse_msg_opts(argc - 1, argv + 1, "t:N", &o);
	argc -= 1;
	argv += 1;
	ret = resolve(target, &id);
	if (ret)
		return ret;
	fd = msg_fd(&id, CHAN_ROLE_SEND, "send", target);

	if (is_stream(id))
		return send_stream(id, target, argv + optind, argc - optind,
				   &o);
	if (optind < argc)
		return send_args(fd, id, target, argv + optind, argc - optind,
				 &o);
	while ((len = getline(&line, &line_cap, stdin)) >= 0) {
		if (len > 0 && line[len - 1] == '\n')
			len--;
		ret = chan_sendmsg(fd, id, line, (size_t)len, o.flags,
				   o.timeout_ns);
		if (ret)
			die_chan("send", target, ret);
	}
	if (ferror(stdin))
		die("read", "standard input", -errno);
	free(line);
	return 0;
}

/*
 * recv on a byte stream: copy its bytes to standard output, as they are,
 * until it is closed and drained (EPIPE); with -c, at most COUNT bytes;
 * with -N, -t or -c 0, also until nothing more is there (EAGAIN) or came
 * in time (ETIMEDOUT).
 */
static int recv_stream(int dev, uint32_t id, const char *target,
		       struct msg_opts *o)
{
	unsigned long long left = o->count_set && o->count ? o->count :
							    ULLONG_MAX;
	size_t cap = RECV_BUF_DEFAULT;
	ssize_t len;
	char *buf;

	buf = malloc(cap);
	if (!buf)
		die("recv", target, -ENOMEM);
	if (o->count_set && o->count == 0 && !(o->flags & CHAN_MSG_TIMEOUT))
		o->flags |= CHAN_MSG_NONBLOCK;
	while (left) {
		len = chan_recvmsg(dev, id, buf, left < cap ? (size_t)left : cap,
				   o->flags, o->timeout_ns, NULL);
		if (len == -EPIPE || len == -EAGAIN || len == -ETIMEDOUT)
			break;
		if (len < 0)
			die_chan("recv", target, (int)len);
		if (fwrite(buf, 1, (size_t)len, stdout) != (size_t)len ||
		    fflush(stdout))
			die("write", "standard output", -errno);
		left -= (unsigned long long)len;
	}
	free(buf);
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
	int dev, status;

	if (argc < 2)
		usage_error("recv: expected an ID or NAME");
	target = argv[1];
	argv[1] = argv[0];
	parse_msg_opts(argc - 1, argv + 1, "t:Nc:", &o);
	if (optind < argc - 1)
		usage_error("recv: unexpected argument: %s", argv[optind + 1]);
	status = resolve(target, &id);
	if (status)
		return status;
	dev = need_dev();
	if (is_stream(id))
		return recv_stream(dev, id, target, &o);

	/* INFO needs read permission, as receiving does; do without it. */
	if (!chan_info(id, &info) && info.msg_size) {
		cap = info.msg_size;
		/*
		 * A broadcast receiver needs a cursor, which only an endpoint
		 * has: subscribe, from the tail on.
		 */
		if (info.chan_flags & CHAN_CREATE_BROADCAST) {
			dev = chan_open(id, CHAN_ROLE_RECV, CHAN_OPEN_CLOEXEC);
			if (dev < 0)
				die_chan("recv", target, dev);
			id = 0;
		}
	}
	/* An SPSC channel is received from through an endpoint too. */
	if (id)
		dev = msg_fd(&id, CHAN_ROLE_RECV, "recv", target);
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
		/* A broadcast subscriber fell behind: say so, go on. */
		if (len == -ENOBUFS) {
			fprintf(stderr, "chanctl: recv: %s: messages were lost "
				"(the receiver fell behind)\n", target);
			n--;
			continue;
		}
		if (len < 0)
			die_chan("recv", target, (int)len);
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
	int sent = 0, status;

	if (argc < 3)
		usage_error("call: expected two IDs or NAMEs");
	target = argv[1];
	reply = argv[2];
	argv[2] = argv[0];
	parse_msg_opts(argc - 2, argv + 2, "t:N", &o);
	if (optind != argc - 3)
		usage_error("call: expected one MESSAGE");
	status = resolve(target, &id);
	if (!status)
		status = resolve(reply, &reply_id);
	if (status)
		return status;
	if (!chan_info(reply_id, &info) && info.msg_size)
		cap = info.msg_size;
	buf = malloc(cap);
	if (!buf)
		die("call", target, -ENOMEM);
	ret = chan_callmsg(need_dev(), id, argv[2 + optind],
			   strlen(argv[2 + optind]), -1, reply_id, buf, cap,
			   o.flags, o.timeout_ns, &len, &sent);
	if (ret < 0)
		die_chan(sent ? "call (request sent, no reply)" : "call",
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
	{ "stat", cmd_stat },
	{ "info", cmd_stat },
	{ "watch", cmd_watch },
	{ "rm", cmd_rm },
	{ "close", cmd_close },
	{ "reset", cmd_reset },
	{ "reopen", cmd_reopen },
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
