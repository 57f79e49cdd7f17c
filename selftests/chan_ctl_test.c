// SPDX-License-Identifier: GPL-2.0
/*
 * INFO's second version (mappers), chan_info_ex(), and chanctl's ls,
 * stat, watch, --json and exit status, with chanctl (from $PATH) run as a
 * child process. chanctl's JSON is read by a strict parser of our own
 * (RFC 8259: structure, numbers, escapes, UTF-8) and compared with what
 * INFO says.
 */
#include "chan_test_util.h"
#include <pwd.h>
#include <grp.h>
#include <libchan.h>

#ifndef offsetofend
#define offsetofend(type, member) \
	(offsetof(type, member) + sizeof(((type *)0)->member))
#endif

#define INFO_V1_SIZE	176U
#define CHANCTL_NOT_FOUND	127	/* a failed exec */
#define RUN_MS		20000	/* the longest a chanctl run may take */

/* ---- a strict JSON parser ---- */

enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

struct jv {
	int t;			/* J_* */
	bool b;
	char num[40];		/* a number's text */
	char *s;		/* a string, decoded (UTF-8, may hold NULs) */
	size_t slen;
	size_t n;		/* array or object members */
	struct jv *kids;
	char **keys;		/* an object's keys, decoded */
};

struct jparser {
	const unsigned char *p, *end;
	int depth;
};

static void jv_free(struct jv *v)
{
	size_t i;

	for (i = 0; i < v->n; i++) {
		jv_free(&v->kids[i]);
		if (v->keys)
			free(v->keys[i]);
	}
	free(v->kids);
	free(v->keys);
	free(v->s);
	memset(v, 0, sizeof(*v));
}

static void jskip(struct jparser *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' ||
				 *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static bool jlit(struct jparser *j, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n))
		return false;
	j->p += n;
	return true;
}

static int jhex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool jhex4(struct jparser *j, uint32_t *cp)
{
	int i, h;

	if (j->end - j->p < 4)
		return false;
	*cp = 0;
	for (i = 0; i < 4; i++) {
		h = jhex(j->p[i]);
		if (h < 0)
			return false;
		*cp = *cp << 4 | (uint32_t)h;
	}
	j->p += 4;
	return true;
}

/* Append code point cp to buf as UTF-8. */
static void jput_utf8(char *buf, size_t *len, uint32_t cp)
{
	unsigned char *b = (unsigned char *)buf + *len;

	if (cp < 0x80) {
		b[0] = (unsigned char)cp;
		*len += 1;
	} else if (cp < 0x800) {
		b[0] = (unsigned char)(0xc0 | cp >> 6);
		b[1] = (unsigned char)(0x80 | (cp & 0x3f));
		*len += 2;
	} else if (cp < 0x10000) {
		b[0] = (unsigned char)(0xe0 | cp >> 12);
		b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (unsigned char)(0x80 | (cp & 0x3f));
		*len += 3;
	} else {
		b[0] = (unsigned char)(0xf0 | cp >> 18);
		b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (unsigned char)(0x80 | (cp & 0x3f));
		*len += 4;
	}
}

/* Length of a valid UTF-8 sequence at p, else 0. */
static size_t jutf8(const unsigned char *p, const unsigned char *end)
{
	size_t len, i;
	uint32_t cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2;
		cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		cp = p[0] & 0x07;
	} else {
		return 0;
	}
	if ((size_t)(end - p) < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (cp >= 0xd800 && cp <= 0xdfff) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

static bool jstring(struct jparser *j, char **out, size_t *outlen)
{
	const unsigned char *start;
	uint32_t cp, lo;
	size_t len = 0, n;
	char *buf;

	if (j->p >= j->end || *j->p != '"')
		return false;
	start = ++j->p;
	/* Decoded, a string is never longer than its text. */
	while (j->p < j->end && *j->p != '"') {
		if (*j->p == '\\')
			j->p++;
		j->p++;
	}
	if (j->p >= j->end)
		return false;
	buf = malloc((size_t)(j->p - start) + 1);
	if (!buf)
		return false;
	j->p = start;
	while (*j->p != '"') {
		if (*j->p < 0x20)
			goto bad;	/* raw control character */
		if (*j->p != '\\') {
			n = jutf8(j->p, j->end);
			if (!n)
				goto bad;
			memcpy(buf + len, j->p, n);
			len += n;
			j->p += n;
			continue;
		}
		j->p++;
		switch (*j->p++) {
		case '"':
			buf[len++] = '"';
			break;
		case '\\':
			buf[len++] = '\\';
			break;
		case '/':
			buf[len++] = '/';
			break;
		case 'b':
			buf[len++] = '\b';
			break;
		case 'f':
			buf[len++] = '\f';
			break;
		case 'n':
			buf[len++] = '\n';
			break;
		case 'r':
			buf[len++] = '\r';
			break;
		case 't':
			buf[len++] = '\t';
			break;
		case 'u':
			if (!jhex4(j, &cp))
				goto bad;
			if (cp >= 0xdc00 && cp <= 0xdfff)
				goto bad;	/* a lone low surrogate */
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (!jlit(j, "\\u") || !jhex4(j, &lo) ||
				    lo < 0xdc00 || lo > 0xdfff)
					goto bad;
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				     (lo - 0xdc00);
			}
			/* \uXXXX (6 bytes of text) decodes to at most 4 */
			jput_utf8(buf, &len, cp);
			break;
		default:
			goto bad;
		}
	}
	j->p++;
	buf[len] = 0;
	*out = buf;
	*outlen = len;
	return true;
bad:
	free(buf);
	return false;
}

static bool jdigits(struct jparser *j)
{
	const unsigned char *s = j->p;

	while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
		j->p++;
	return j->p > s;
}

static bool jnumber(struct jparser *j, struct jv *v)
{
	const unsigned char *s = j->p;

	if (j->p < j->end && *j->p == '-')
		j->p++;
	if (j->p < j->end && *j->p == '0')
		j->p++;		/* no leading zeros */
	else if (!jdigits(j))
		return false;
	if (j->p < j->end && *j->p == '.') {
		j->p++;
		if (!jdigits(j))
			return false;
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (!jdigits(j))
			return false;
	}
	if ((size_t)(j->p - s) >= sizeof(v->num))
		return false;
	v->t = J_NUM;
	memcpy(v->num, s, (size_t)(j->p - s));
	v->num[j->p - s] = 0;
	return true;
}

static bool jvalue(struct jparser *j, struct jv *v);

static bool jadd(struct jv *v, char *key)
{
	struct jv *kids = realloc(v->kids, (v->n + 1) * sizeof(*kids));
	char **keys;

	if (!kids)
		return false;
	v->kids = kids;
	memset(&kids[v->n], 0, sizeof(*kids));
	if (v->t == J_OBJ) {
		keys = realloc(v->keys, (v->n + 1) * sizeof(*keys));
		if (!keys)
			return false;
		v->keys = keys;
		keys[v->n] = key;
	}
	v->n++;
	return true;
}

static bool jcontainer(struct jparser *j, struct jv *v, bool obj)
{
	char *key = NULL;
	size_t klen;

	if (++j->depth > 64)
		return false;
	v->t = obj ? J_OBJ : J_ARR;
	j->p++;
	jskip(j);
	if (j->p < j->end && *j->p == (obj ? '}' : ']')) {
		j->p++;
		j->depth--;
		return true;
	}
	for (;;) {
		jskip(j);
		if (obj) {
			if (!jstring(j, &key, &klen))
				return false;
			jskip(j);
			if (j->p >= j->end || *j->p++ != ':') {
				free(key);
				return false;
			}
		}
		if (!jadd(v, key)) {
			free(key);
			return false;
		}
		key = NULL;
		if (!jvalue(j, &v->kids[v->n - 1]))
			return false;
		jskip(j);
		if (j->p >= j->end)
			return false;
		if (*j->p == ',') {
			j->p++;
			continue;
		}
		if (*j->p++ != (obj ? '}' : ']'))
			return false;
		j->depth--;
		return true;
	}
}

static bool jvalue(struct jparser *j, struct jv *v)
{
	jskip(j);
	if (j->p >= j->end)
		return false;
	switch (*j->p) {
	case '{':
		return jcontainer(j, v, true);
	case '[':
		return jcontainer(j, v, false);
	case '"':
		v->t = J_STR;
		return jstring(j, &v->s, &v->slen);
	case 't':
		v->t = J_BOOL;
		v->b = true;
		return jlit(j, "true");
	case 'f':
		v->t = J_BOOL;
		return jlit(j, "false");
	case 'n':
		v->t = J_NULL;
		return jlit(j, "null");
	default:
		return jnumber(j, v);
	}
}

/* Parse exactly one JSON text of len bytes (whitespace around it). */
static bool json_parse(const char *text, size_t len, struct jv *v)
{
	struct jparser j = {
		.p = (const unsigned char *)text,
		.end = (const unsigned char *)text + len,
	};

	memset(v, 0, sizeof(*v));
	if (!jvalue(&j, v)) {
		jv_free(v);
		return false;
	}
	jskip(&j);
	if (j.p != j.end) {
		jv_free(v);
		return false;
	}
	return true;
}

static const struct jv *jget(const struct jv *obj, const char *key)
{
	size_t i;

	if (!obj || obj->t != J_OBJ)
		return NULL;
	for (i = 0; i < obj->n; i++)
		if (!strcmp(obj->keys[i], key))
			return &obj->kids[i];
	return NULL;
}

/* A non-negative integer member, as uint64_t; false if it is not one. */
static bool jget_u64(const struct jv *obj, const char *key, uint64_t *out)
{
	const struct jv *v = jget(obj, key);
	char *end;

	if (!v || v->t != J_NUM || !v->num[0] || v->num[0] == '-' ||
	    strpbrk(v->num, ".eE"))
		return false;
	errno = 0;
	*out = strtoull(v->num, &end, 10);
	return !errno && !*end;
}

static bool jget_double(const struct jv *obj, const char *key, double *out)
{
	const struct jv *v = jget(obj, key);

	if (!v || v->t != J_NUM)
		return false;
	*out = strtod(v->num, NULL);
	return true;
}

/* The element of array arr whose "id" is id, or NULL. */
static const struct jv *jfind_id(const struct jv *arr, uint32_t id)
{
	uint64_t v;
	size_t i;

	if (!arr || arr->t != J_ARR)
		return NULL;
	for (i = 0; i < arr->n; i++)
		if (jget_u64(&arr->kids[i], "id", &v) && v == id)
			return &arr->kids[i];
	return NULL;
}

/* ---- running chanctl ---- */

struct ctl_run {
	int status;		/* exit code, 128 + signal, CT_WAIT_TIMEOUT */
	char *out;		/* standard output, NUL-terminated */
	size_t outlen;
	char err[2048];		/* standard error (the start of it) */
	size_t errlen;
};

struct ctl_proc {
	pid_t pid;
	int out, err;
};

/* Start chanctl argv, as nobody if unpriv, its output into pipes. */
static int ctl_start(struct ctl_proc *cp, bool unpriv, char *const argv[])
{
	int o[2], e[2], devnull;

	if (pipe2(o, O_CLOEXEC))
		return -1;
	if (pipe2(e, O_CLOEXEC)) {
		close(o[0]);
		close(o[1]);
		return -1;
	}
	fflush(stdout);
	fflush(stderr);
	cp->pid = fork();
	if (cp->pid == 0) {
		dup2(o[1], STDOUT_FILENO);
		dup2(e[1], STDERR_FILENO);
		devnull = open("/dev/null", O_RDONLY);
		if (devnull >= 0)
			dup2(devnull, STDIN_FILENO);
		if (unpriv && ct_drop_privs(NULL, 0))
			_exit(CT_EXIT_SETUP);
		execvp("chanctl", argv);
		_exit(CHANCTL_NOT_FOUND);
	}
	close(o[1]);
	close(e[1]);
	if (cp->pid < 0) {
		close(o[0]);
		close(e[0]);
		return -1;
	}
	cp->out = o[0];
	cp->err = e[0];
	return 0;
}

/*
 * Read what chanctl writes until both pipes end or timeout_ms passes,
 * sending it sig (if not 0) once sig_ms have passed; then its exit code.
 */
static void ctl_finish(struct ctl_proc *cp, struct ctl_run *r,
		       unsigned int timeout_ms, int sig, unsigned int sig_ms)
{
	uint64_t start = ct_now_ns(), now;
	uint64_t deadline = start + (uint64_t)timeout_ms * CT_MS;
	struct pollfd pfd[2] = {
		{ .fd = cp->out, .events = POLLIN },
		{ .fd = cp->err, .events = POLLIN },
	};
	size_t cap = 65536;
	ssize_t n;
	char *bigger;
	int wait_ms;

	r->out = malloc(cap);
	r->outlen = 0;
	r->errlen = 0;
	while (r->out && (pfd[0].fd >= 0 || pfd[1].fd >= 0)) {
		now = ct_now_ns();
		if (now >= deadline)
			break;
		wait_ms = (int)((deadline - now) / CT_MS) + 1;
		if (sig && now - start < (uint64_t)sig_ms * CT_MS) {
			wait_ms = (int)(((uint64_t)sig_ms * CT_MS -
					 (now - start)) / CT_MS) + 1;
		} else if (sig) {
			kill(cp->pid, sig);
			sig = 0;
		}
		if (poll(pfd, 2, wait_ms) <= 0)
			continue;
		if (pfd[0].revents) {
			if (cap - r->outlen < 4096) {
				bigger = realloc(r->out, cap * 2);
				if (!bigger)
					break;
				r->out = bigger;
				cap *= 2;
			}
			n = read(cp->out, r->out + r->outlen,
				 cap - 1 - r->outlen);
			if (n <= 0)
				pfd[0].fd = -1;
			else
				r->outlen += (size_t)n;
		}
		if (pfd[1].revents) {
			char sink[512];

			n = read(cp->err, r->errlen < sizeof(r->err) - 1 ?
				 r->err + r->errlen : sink,
				 r->errlen < sizeof(r->err) - 1 ?
				 sizeof(r->err) - 1 - r->errlen : sizeof(sink));
			if (n <= 0)
				pfd[1].fd = -1;
			else if (r->errlen < sizeof(r->err) - 1)
				r->errlen += (size_t)n;
		}
	}
	if (r->out)
		r->out[r->outlen] = 0;
	r->err[r->errlen] = 0;
	close(cp->out);
	close(cp->err);
	now = ct_now_ns();
	r->status = ct_wait_exit(cp->pid, 2000 + (now < deadline ?
				 (unsigned int)((deadline - now) / CT_MS) : 0));
	cp->pid = 0;
}

/* Run chanctl argv to its end; r->out must be freed. */
static int ctl_run_as(struct ctl_run *r, bool unpriv, char *const argv[])
{
	struct ctl_proc cp;

	memset(r, 0, sizeof(*r));
	if (ctl_start(&cp, unpriv, argv)) {
		r->status = CT_EXIT_SETUP;
		return r->status;
	}
	ctl_finish(&cp, r, RUN_MS, 0, 0);
	return r->status;
}

#define CTL(r, ...) ctl_run_as(r, false, (char *[]){ "chanctl", __VA_ARGS__, NULL })
#define CTL_NOBODY(r, ...) \
	ctl_run_as(r, true, (char *[]){ "chanctl", __VA_ARGS__, NULL })

/* Log a run that did not end as expected, with its output. */
#define CTL_EXPECT_STATUS(want, r)					\
	do {								\
		if ((r)->status == CHANCTL_NOT_FOUND)			\
			TH_LOG("chanctl is not on the PATH");		\
		if ((r)->status != (want))				\
			TH_LOG("chanctl exited %d (want %d); stdout: %s; stderr: %s", \
			       (r)->status, (want),			\
			       (r)->out ? (r)->out : "", (r)->err);	\
		EXPECT_EQ((want), (r)->status);				\
	} while (0)

/* Split line (modified) into at most max whitespace-separated words. */
static int split(char *line, char **w, int max)
{
	int n = 0;
	char *save = NULL, *tok;

	for (tok = strtok_r(line, " \t", &save); tok && n < max;
	     tok = strtok_r(NULL, " \t", &save))
		w[n++] = tok;
	return n;
}

/*
 * The words of the line of out whose first word is id (copied into buf):
 * the number of words, 0 if there is no such line.
 */
static int find_row(const char *out, uint32_t id, char *buf, size_t len,
		    char **w, int max)
{
	char key[16];
	const char *line = out, *nl;
	size_t kl;

	kl = (size_t)snprintf(key, sizeof(key), "%u", id);
	while (*line) {
		nl = strchr(line, '\n');
		if (!nl)
			nl = line + strlen(line);
		if ((size_t)(nl - line) > kl && !strncmp(line, key, kl) &&
		    (line[kl] == ' ' || line[kl] == '\t') &&
		    (size_t)(nl - line) < len) {
			memcpy(buf, line, (size_t)(nl - line));
			buf[nl - line] = 0;
			return split(buf, w, max);
		}
		line = *nl ? nl + 1 : nl;
	}
	return 0;
}

/* What ls and stat should show as a uid's or gid's owner name. */
static void owner_text(uint32_t uid, char *buf, size_t len)
{
	struct passwd *pw = getpwuid(uid);

	if (pw && pw->pw_name && pw->pw_name[0])
		snprintf(buf, len, "%s", pw->pw_name);
	else
		snprintf(buf, len, "%u", uid);
}

static void group_text(uint32_t gid, char *buf, size_t len)
{
	struct group *gr = getgrgid(gid);

	if (gr && gr->gr_name && gr->gr_name[0])
		snprintf(buf, len, "%s", gr->gr_name);
	else
		snprintf(buf, len, "%u", gid);
}

/* INFO by ID at the second version's size. */
static int info_v2(int dev, uint32_t id, struct chan_info *info)
{
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	info->id = id;
	return ioctl(dev, CHAN_IOC_INFO, info);
}

/* ---- the fixture ---- */

#define CTL_MAX_CHANS	8

FIXTURE(ctl) {
	int dev;
	uint32_t ids[CTL_MAX_CHANS];
	int nids;
	mode_t dev_mode;
	pid_t pid[CT_MAX_CHILDREN];
};

FIXTURE_SETUP(ctl)
{
	self->dev = ct_dev_open();
	ASSERT_LE(0, self->dev);
	self->dev_mode = ct_dev_allow_all();
}

FIXTURE_TEARDOWN(ctl)
{
	int i;

	ct_reap_all(self->pid, CT_MAX_CHILDREN);
	for (i = 0; i < self->nids; i++)
		ct_destroy(self->dev, self->ids[i]);
	ct_dev_restore(self->dev_mode);
	close(self->dev);
}

/* Create a channel destroyed by the teardown; its ID, or 0. */
static uint32_t ctl_create(FIXTURE_DATA(ctl) *self, uint32_t msg_size,
			   uint32_t capacity, uint32_t mode, uint32_t flags,
			   uint64_t tag, const char *name)
{
	uint32_t id;

	if (self->nids == CTL_MAX_CHANS ||
	    ct_create(self->dev, msg_size, capacity, mode, flags, tag, name,
		      &id))
		return 0;
	self->ids[self->nids++] = id;
	return id;
}

/* ---- INFO v2 and chan_info_ex() ---- */

/* mappers counts live mappings: handles, raw mmaps, gone on unmap/close. */
TEST_F(ctl, info_mappers)
{
	struct chan_ep *ep1 = NULL, *ep2 = NULL;
	struct chan_create c;
	struct chan_info info;
	uint32_t id, plain;
	void *map;
	int fd;

	memset(&c, 0, sizeof(c));
	c.flags = CHAN_CREATE_MAPPABLE;
	c.msg_size = 32;
	c.capacity = 8;
	c.mode = 0600;
	ASSERT_OK(ct_create_raw(self->dev, &c));
	id = c.out_id;
	self->ids[self->nids++] = id;

	ASSERT_OK(info_v2(self->dev, id, &info));
	EXPECT_EQ(0U, info.mappers);
	EXPECT_EQ(0U, info.__reserved2);

	ASSERT_EQ(0, chan_ep_open(&ep1, id, CHAN_ROLE_SEND | CHAN_ROLE_RECV, 0));
	ASSERT_EQ(1, chan_ep_mapped(ep1));
	ASSERT_OK(info_v2(self->dev, id, &info));
	EXPECT_EQ(1U, info.mappers);
	EXPECT_EQ(1U, info.senders);
	/* On the channel fd too (INFO needs no permission there). */
	memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	ASSERT_OK(ioctl(chan_ep_fd(ep1), CHAN_IOC_INFO, &info));
	EXPECT_EQ(1U, info.mappers);

	ASSERT_EQ(0, chan_ep_open(&ep2, id, CHAN_ROLE_SEND | CHAN_ROLE_RECV, 0));
	ASSERT_EQ(1, chan_ep_mapped(ep2));
	ASSERT_OK(info_v2(self->dev, id, &info));
	EXPECT_EQ(2U, info.mappers);

	/* An endpoint that is not mapped is not counted. */
	fd = ct_open(self->dev, id, CHAN_ROLE_SEND | CHAN_ROLE_RECV, 0, 0);
	ASSERT_LE(0, fd);
	ASSERT_OK(info_v2(self->dev, id, &info));
	EXPECT_EQ(2U, info.mappers);
	EXPECT_EQ(3U, info.senders);

	ASSERT_OK(chan_ep_close(ep2));
	ASSERT_OK(info_v2(self->dev, id, &info));
	EXPECT_EQ(1U, info.mappers);
	ASSERT_OK(chan_ep_close(ep1));
	ASSERT_OK(info_v2(self->dev, id, &info));
	EXPECT_EQ(0U, info.mappers);

	/* A raw mapping: counted until munmap, while the fd stays open. */
	map = mmap(NULL, c.out_ring.map_size, PROT_READ | PROT_WRITE,
		   MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_OK(info_v2(self->dev, id, &info));
	EXPECT_EQ(1U, info.mappers);
	ASSERT_OK(munmap(map, c.out_ring.map_size));
	ASSERT_OK(info_v2(self->dev, id, &info));
	EXPECT_EQ(0U, info.mappers);
	EXPECT_EQ(1U, info.senders);
	close(fd);

	/* A channel that is not mappable: 0 whatever its endpoints. */
	plain = ctl_create(self, 32, 8, 0600, 0, 0, NULL);
	ASSERT_NE(0U, plain);
	ASSERT_EQ(0, chan_ep_open(&ep1, plain, CHAN_ROLE_SEND | CHAN_ROLE_RECV, 0));
	EXPECT_EQ(0, chan_ep_mapped(ep1));
	ASSERT_OK(info_v2(self->dev, plain, &info));
	EXPECT_EQ(0U, info.mappers);
	EXPECT_EQ(1U, info.senders);
	chan_ep_close(ep1);
}

/* The first version (176 bytes) still works and gets nothing past name. */
TEST_F(ctl, info_first_version)
{
	unsigned char buf[256];
	struct chan_info *info = (struct chan_info *)buf;
	char name[CHAN_NAME_MAX];
	struct chan_ep *ep = NULL;
	uint32_t id;
	size_t i;

	ASSERT_EQ(INFO_V1_SIZE, offsetofend(struct chan_info, name));
	/* v2 added 16 bytes (mappers .. corrupt), v3 16 more (.. lost). */
	ASSERT_EQ(INFO_V1_SIZE + 16, offsetofend(struct chan_info, corrupt));
	ASSERT_EQ(INFO_V1_SIZE + 32, sizeof(struct chan_info));
	ct_name(name, sizeof(name), "v1");
	id = ctl_create(self, 16, 4, 0600, CHAN_CREATE_MAPPABLE, 0, name);
	ASSERT_NE(0U, id);
	ASSERT_EQ(0, chan_ep_open(&ep, id, CHAN_ROLE_SEND | CHAN_ROLE_RECV, 0));
	ASSERT_EQ(1, chan_ep_mapped(ep));

	memset(buf, 0xa5, sizeof(buf));
	memset(buf, 0, INFO_V1_SIZE);
	info->size = INFO_V1_SIZE;
	info->id = id;
	ASSERT_OK(ioctl(self->dev, CHAN_IOC_INFO, info));
	EXPECT_EQ(id, info->id);
	EXPECT_EQ(16U, info->msg_size);
	EXPECT_EQ(1U, info->senders);
	EXPECT_STREQ(name, info->name);
	for (i = INFO_V1_SIZE; i < sizeof(buf); i++)
		ASSERT_EQ(0xa5, buf[i]);

	/* Between the versions: mappers fits, __reserved2 does not. */
	memset(buf, 0xa5, sizeof(buf));
	memset(buf, 0, INFO_V1_SIZE + 4);
	info->size = INFO_V1_SIZE + 4;
	info->id = id;
	ASSERT_OK(ioctl(self->dev, CHAN_IOC_INFO, info));
	EXPECT_EQ(1U, info->mappers);
	for (i = INFO_V1_SIZE + 4; i < sizeof(buf); i++)
		ASSERT_EQ(0xa5, buf[i]);

	/* One byte short of the first version: EINVAL. */
	memset(buf, 0, sizeof(buf));
	info->size = INFO_V1_SIZE - 1;
	info->id = id;
	EXPECT_ERRNO(EINVAL, ioctl(self->dev, CHAN_IOC_INFO, info));
	chan_ep_close(ep);
}

TEST_F(ctl, info_reserved2)
{
	struct chan_info info;
	uint32_t id;
	int fd;

	id = ctl_create(self, 16, 4, 0600, 0, 0, NULL);
	ASSERT_NE(0U, id);
	ASSERT_OK(info_v2(self->dev, id, &info));
	memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	info.id = id;
	info.__reserved2 = 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->dev, CHAN_IOC_INFO, &info));
	info.__reserved2 = 0x80000000U;
	EXPECT_ERRNO(EINVAL, ioctl(self->dev, CHAN_IOC_INFO, &info));
	info.flags = CHAN_INFO_NEXT;
	info.id = 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->dev, CHAN_IOC_INFO, &info));
	fd = ct_open(self->dev, id, CHAN_ROLE_RECV, 0, 0);
	ASSERT_LE(0, fd);
	memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	info.__reserved2 = 1;
	EXPECT_ERRNO(EINVAL, ioctl(fd, CHAN_IOC_INFO, &info));
	close(fd);
}

/* chan_info_ex(): sizes, fds, flags; the LIBCHAN_1 forms copy 176 bytes. */
TEST_F(ctl, info_ex_sizes)
{
	unsigned char buf[256];
	struct chan_info *info = (struct chan_info *)buf;
	char name[CHAN_NAME_MAX];
	struct chan_ep *ep = NULL;
	uint32_t id;
	size_t i;
	int dev;

	ct_name(name, sizeof(name), "ex");
	id = ctl_create(self, 24, 4, 0600, CHAN_CREATE_MAPPABLE, 0x77, name);
	ASSERT_NE(0U, id);
	ASSERT_EQ(0, chan_ep_open(&ep, id, CHAN_ROLE_SEND | CHAN_ROLE_RECV, 0));
	ASSERT_EQ(1, chan_ep_mapped(ep));

	EXPECT_EQ(-EINVAL, chan_info_ex(-1, id, 0, info, INFO_V1_SIZE - 1));
	EXPECT_EQ(-EINVAL, chan_info_ex(-1, id, 0, info, 0));
	EXPECT_EQ(-EINVAL, chan_info_ex(-1, id, 0, NULL, sizeof(*info)));

	/* The first version's size: nothing written past name. */
	memset(buf, 0xa5, sizeof(buf));
	ASSERT_EQ(0, chan_info_ex(-1, id, 0, info, INFO_V1_SIZE));
	EXPECT_EQ(id, info->id);
	EXPECT_EQ(0x77U, info->type_tag);
	EXPECT_STREQ(name, info->name);
	for (i = INFO_V1_SIZE; i < sizeof(buf); i++)
		ASSERT_EQ(0xa5, buf[i]);

	/* The library's size: mappers. */
	memset(buf, 0xa5, sizeof(buf));
	ASSERT_EQ(0, chan_info_ex(-1, id, 0, info, sizeof(*info)));
	EXPECT_EQ(1U, info->mappers);
	EXPECT_EQ(0U, info->__reserved2);

	/* A caller's longer struct: its tail is left alone. */
	memset(buf, 0xa5, sizeof(buf));
	ASSERT_EQ(0, chan_info_ex(-1, id, 0, info, sizeof(buf)));
	EXPECT_EQ(1U, info->mappers);
	for (i = sizeof(*info); i < sizeof(buf); i++)
		ASSERT_EQ(0xa5, buf[i]);

	/* On the channel fd (id 0, else EINVAL), on a /dev/chan fd of ours. */
	ASSERT_EQ(0, chan_info_ex(chan_ep_fd(ep), 0, 0, info, sizeof(*info)));
	EXPECT_EQ(id, info->id);
	EXPECT_EQ(1U, info->mappers);
	EXPECT_EQ(-EINVAL, chan_info_ex(chan_ep_fd(ep), id, 0, info,
					sizeof(*info)));
	dev = chan_dev_open();
	ASSERT_LE(0, dev);
	ASSERT_EQ(0, chan_info_ex(dev, id, 0, info, sizeof(*info)));
	EXPECT_EQ(1U, info->mappers);
	/* Flags: INFO_NEXT enumerates; an unknown one is EOPNOTSUPP. */
	ASSERT_EQ(0, chan_info_ex(-1, id, CHAN_INFO_NEXT, info, sizeof(*info)));
	EXPECT_EQ(id, info->id);
	EXPECT_EQ(1U, info->mappers);
	EXPECT_EQ(-EOPNOTSUPP, chan_info_ex(-1, id, 1U << 30, info,
					    sizeof(*info)));
	EXPECT_EQ(-ENOENT, chan_info_ex(dev, 0xfffffff0U, 0, info,
					sizeof(*info)));
	close(dev);

	/* chan_info(), chan_fd_info(), chan_info_next(): 176 bytes. */
	memset(buf, 0xa5, sizeof(buf));
	ASSERT_EQ(0, chan_info(id, info));
	EXPECT_EQ(id, info->id);
	for (i = INFO_V1_SIZE; i < sizeof(buf); i++)
		ASSERT_EQ(0xa5, buf[i]);
	memset(buf, 0xa5, sizeof(buf));
	ASSERT_EQ(0, chan_fd_info(chan_ep_fd(ep), info));
	for (i = INFO_V1_SIZE; i < sizeof(buf); i++)
		ASSERT_EQ(0xa5, buf[i]);
	memset(buf, 0xa5, sizeof(buf));
	ASSERT_EQ(0, chan_info_next(id, info));
	for (i = INFO_V1_SIZE; i < sizeof(buf); i++)
		ASSERT_EQ(0xa5, buf[i]);

	chan_ep_close(ep);
}

/* ---- ls ---- */

static const char *const ls_header[] = {
	"ID", "NAME", "OWNER", "GROUP", "PERMS", "MSGSIZE", "CAP", "DEPTH",
	"MAXD", "SEND", "RECV", "MODE", "FAST",
};

/* The header line of ls: exactly the columns of the spec. */
static bool ls_header_ok(const char *out)
{
	char line[256], *w[16];
	const char *nl = strchr(out, '\n');
	int n, i;

	if (!nl || (size_t)(nl - out) >= sizeof(line))
		return false;
	memcpy(line, out, (size_t)(nl - out));
	line[nl - out] = 0;
	n = split(line, w, 16);
	if (n != (int)ARRAY_SIZE(ls_header))
		return false;
	for (i = 0; i < n; i++)
		if (strcmp(w[i], ls_header[i]))
			return false;
	return true;
}

struct ls_want {
	const char *name, *perms, *msgsize, *cap, *depth, *maxd, *send, *recv;
	const char *mode, *fast;
};

static void check_ls_row(struct __test_metadata *_metadata, const char *out,
			 uint32_t id, const struct ls_want *want)
{
	char buf[512], owner[64], group[64], *w[16];
	int n = find_row(out, id, buf, sizeof(buf), w, 16);

	owner_text(geteuid(), owner, sizeof(owner));
	group_text(getegid(), group, sizeof(group));
	if (n != 13)
		TH_LOG("no 13-column row for %u in:\n%s", id, out);
	ASSERT_EQ(13, n);
	EXPECT_STREQ(want->name, w[1]);
	EXPECT_STREQ(owner, w[2]);
	EXPECT_STREQ(group, w[3]);
	EXPECT_STREQ(want->perms, w[4]);
	EXPECT_STREQ(want->msgsize, w[5]);
	EXPECT_STREQ(want->cap, w[6]);
	EXPECT_STREQ(want->depth, w[7]);
	EXPECT_STREQ(want->maxd, w[8]);
	EXPECT_STREQ(want->send, w[9]);
	EXPECT_STREQ(want->recv, w[10]);
	EXPECT_STREQ(want->mode, w[11]);
	EXPECT_STREQ(want->fast, w[12]);
}

TEST_F(ctl, ls_columns)
{
	char name_a[CHAN_NAME_MAX], name_b[CHAN_NAME_MAX], msg[32];
	struct chan_ep *ep = NULL;
	struct ctl_run r;
	uint32_t a, b, c, len;
	int sfd;

	ct_name(name_a, sizeof(name_a), "ls-a");
	ct_name(name_b, sizeof(name_b), "ls-b");
	/* a: auto-destroy (never armed: its owner opens no endpoint) */
	a = ctl_create(self, 32, 5, 0640, CHAN_CREATE_AUTODESTROY, 0, name_a);
	ASSERT_NE(0U, a);
	b = ctl_create(self, 64, 16, 0600, CHAN_CREATE_MAPPABLE, 0, name_b);
	ASSERT_NE(0U, b);
	c = ctl_create(self, 8, 2, 0604, 0, 0, NULL);
	ASSERT_NE(0U, c);
	ASSERT_OK(ct_send(self->dev, a, "x", 1, 0, 0));
	ASSERT_OK(ct_send(self->dev, a, "y", 1, 0, 0));
	ASSERT_OK(ct_send(self->dev, a, "z", 1, 0, 0));
	sfd = ct_open(self->dev, c, CHAN_ROLE_SEND, 0, 0);
	ASSERT_LE(0, sfd);
	ASSERT_EQ(0, chan_ep_open(&ep, b, CHAN_ROLE_SEND | CHAN_ROLE_RECV, 0));
	ASSERT_EQ(1, chan_ep_mapped(ep));

	CTL(&r, "ls");
	CTL_EXPECT_STATUS(0, &r);
	ASSERT_TRUE(r.out && ls_header_ok(r.out)) {
		TH_LOG("ls header: %s", r.out ? r.out : "");
	}
	check_ls_row(_metadata, r.out, a, &(struct ls_want){
		name_a, "640", "32", "8", "3", "3", "0", "0", "mpmc+auto", "-" });
	check_ls_row(_metadata, r.out, b, &(struct ls_want){
		name_b, "600", "64", "16", "0", "0", "1", "1", "mpmc", "mapped:1" });
	check_ls_row(_metadata, r.out, c, &(struct ls_want){
		"-", "604", "8", "2", "0", "0", "1", "0", "mpmc", "-" });
	free(r.out);

	/* Unmapped: mappable again. One received: MAXD keeps the peak. */
	chan_ep_close(ep);
	len = sizeof(msg);
	ASSERT_OK(ct_recv(self->dev, a, msg, &len, 0, 0));
	CTL(&r, "ls");
	CTL_EXPECT_STATUS(0, &r);
	check_ls_row(_metadata, r.out, a, &(struct ls_want){
		name_a, "640", "32", "8", "2", "3", "0", "0", "mpmc+auto", "-" });
	check_ls_row(_metadata, r.out, b, &(struct ls_want){
		name_b, "600", "64", "16", "0", "0", "0", "0", "mpmc", "mappable" });
	free(r.out);
	close(sfd);
}

/* An unprivileged caller sees only what it may read; stat says EACCES. */
TEST_F(ctl, ls_unprivileged)
{
	char idstr[16];
	struct ctl_run r;
	struct jv v;
	uint32_t hidden, shown;
	char buf[512], *w[16];

	hidden = ctl_create(self, 8, 2, 0600, 0, 0, NULL);
	shown = ctl_create(self, 8, 2, 0604, 0, 0, NULL);
	ASSERT_NE(0U, hidden);
	ASSERT_NE(0U, shown);

	CTL_NOBODY(&r, "ls");
	CTL_EXPECT_STATUS(0, &r);
	ASSERT_TRUE(r.out && ls_header_ok(r.out));
	EXPECT_EQ(13, find_row(r.out, shown, buf, sizeof(buf), w, 16));
	EXPECT_EQ(0, find_row(r.out, hidden, buf, sizeof(buf), w, 16));
	free(r.out);

	CTL_NOBODY(&r, "ls", "--json");
	CTL_EXPECT_STATUS(0, &r);
	ASSERT_TRUE(r.out && json_parse(r.out, r.outlen, &v)) {
		TH_LOG("not JSON: %s", r.out ? r.out : "");
	}
	EXPECT_NE(NULL, jfind_id(&v, shown));
	EXPECT_EQ(NULL, jfind_id(&v, hidden));
	jv_free(&v);
	free(r.out);

	/* Root (CAP_IPC_OWNER) sees both. */
	CTL(&r, "ls");
	CTL_EXPECT_STATUS(0, &r);
	EXPECT_EQ(13, find_row(r.out, hidden, buf, sizeof(buf), w, 16));
	free(r.out);

	/* stat of what it may not read: the operation fails (1). */
	snprintf(idstr, sizeof(idstr), "%u", hidden);
	CTL_NOBODY(&r, "stat", idstr);
	CTL_EXPECT_STATUS(1, &r);
	free(r.out);
}

/* ---- --json ---- */

/* Every INFO field of obj equals info's. */
static void check_json_info(struct __test_metadata *_metadata,
			    const struct jv *obj, const struct chan_info *info)
{
	const struct {
		const char *key;
		uint64_t val;
	} fields[] = {
		{ "id", info->id },
		{ "state", info->state },
		{ "chan_flags", info->chan_flags },
		{ "mode", info->mode },
		{ "uid", info->uid },
		{ "gid", info->gid },
		{ "msg_size", info->msg_size },
		{ "capacity", info->capacity },
		{ "depth", info->depth },
		{ "senders", info->senders },
		{ "receivers", info->receivers },
		{ "mappers", info->mappers },
		{ "type_tag", info->type_tag },
		{ "sent", info->sent },
		{ "received", info->received },
		{ "dropped", info->dropped },
		{ "discarded", info->discarded },
		{ "send_waits", info->send_waits },
		{ "recv_waits", info->recv_waits },
		{ "corrupt", info->corrupt },
	};
	const struct jv *name;
	uint64_t v;
	size_t i;

	ASSERT_NE(NULL, obj);
	ASSERT_EQ(J_OBJ, obj->t);
	for (i = 0; i < ARRAY_SIZE(fields); i++) {
		if (!jget_u64(obj, fields[i].key, &v)) {
			TH_LOG("no integer \"%s\"", fields[i].key);
			EXPECT_TRUE(false);
			continue;
		}
		if (v != fields[i].val)
			TH_LOG("\"%s\": %" PRIu64 ", INFO says %" PRIu64,
			       fields[i].key, v, fields[i].val);
		EXPECT_EQ(fields[i].val, v);
	}
	name = jget(obj, "name");
	ASSERT_NE(NULL, name);
	ASSERT_EQ(J_STR, name->t);
	EXPECT_EQ(strlen(info->name), name->slen);
	EXPECT_STREQ(info->name, name->s);
}

TEST_F(ctl, json_ls_stat)
{
	/* quotes, backslashes and the other characters JSON cares about */
	char name[CHAN_NAME_MAX], idstr[16], buf[64];
	struct chan_info info;
	struct ctl_run r;
	struct jv v;
	uint32_t id, other;
	int i;

	snprintf(name, sizeof(name), "q\"uo\\te\\\"{[,:]}-%d", (int)getpid());
	id = ctl_create(self, 48, 8, 0640, CHAN_CREATE_MAPPABLE,
			0xfedcba9876543210ULL, name);
	ASSERT_NE(0U, id);
	other = ctl_create(self, 8, 2, 0600, 0, 0, NULL);
	ASSERT_NE(0U, other);
	snprintf(idstr, sizeof(idstr), "%u", id);
	/* Some traffic, so that the counters are not all zero. */
	for (i = 0; i < 5; i++)
		ASSERT_OK(ct_send(self->dev, id, "abc", 3, 0, 0));
	for (i = 0; i < 2; i++) {
		uint32_t len = sizeof(buf);

		ASSERT_OK(ct_recv(self->dev, id, buf, &len, 0, 0));
	}
	ASSERT_OK(info_v2(self->dev, id, &info));
	ASSERT_EQ(5U, info.sent);

	CTL(&r, "ls", "--json");
	CTL_EXPECT_STATUS(0, &r);
	ASSERT_TRUE(r.out && json_parse(r.out, r.outlen, &v)) {
		TH_LOG("ls --json is not JSON: %s", r.out ? r.out : "");
	}
	ASSERT_EQ(J_ARR, v.t);
	check_json_info(_metadata, jfind_id(&v, id), &info);
	EXPECT_NE(NULL, jfind_id(&v, other));
	jv_free(&v);
	free(r.out);

	/* stat by name and by ID, --json before or after; info alike. */
	CTL(&r, "stat", name, "--json");
	CTL_EXPECT_STATUS(0, &r);
	ASSERT_TRUE(r.out && json_parse(r.out, r.outlen, &v)) {
		TH_LOG("stat --json is not JSON: %s", r.out ? r.out : "");
	}
	check_json_info(_metadata, &v, &info);
	jv_free(&v);
	free(r.out);

	CTL(&r, "info", "--json", idstr);
	CTL_EXPECT_STATUS(0, &r);
	ASSERT_TRUE(r.out && json_parse(r.out, r.outlen, &v));
	check_json_info(_metadata, &v, &info);
	jv_free(&v);
	free(r.out);

	/* The text form has every field, mappers too. */
	CTL(&r, "stat", idstr);
	CTL_EXPECT_STATUS(0, &r);
	ASSERT_NE(NULL, r.out);
	EXPECT_NE(NULL, strstr(r.out, "mappers:    0 (mappable)\n"));
	snprintf(buf, sizeof(buf), "sent:       %" PRIu64 "\n",
		 (uint64_t)info.sent);
	EXPECT_NE(NULL, strstr(r.out, buf));
	EXPECT_NE(NULL, strstr(r.out, "type_tag:   0xfedcba9876543210\n"));
	free(r.out);

	/*
	 * A name with a control byte (or space, or a byte past ASCII) never
	 * reaches chanctl's JSON: the kernel refuses it.
	 */
	EXPECT_ERRNO(EINVAL, ct_create_raw(self->dev, &(struct chan_create){
		.msg_size = 8, .capacity = 2, .name = "ctl\x01x" }));
	CTL(&r, "create", "-n", "ctl\tx");
	CTL_EXPECT_STATUS(1, &r);
	free(r.out);
}

/* The parser itself: it must refuse what is not JSON. */
TEST_F(ctl, json_parser_is_strict)
{
	static const char *const bad[] = {
		"", "{", "[1,]", "{\"a\":1,}", "{'a':1}", "[01]", "[1.]",
		"[.5]", "[-]", "[1e]", "\"\\x41\"", "\"a\tb\"", "\"\xff\"",
		"\"\xc0\xaf\"", "\"\\ud800\"", "[nul]", "[1] [2]", "{\"a\" 1}",
		"[\"\\u12\"]", "tru",
	};
	static const char *const good[] = {
		"{}", "[]", "[0,-1,1.5e3,2E-2]", "\"\\u00e9\\\"\\\\\\/\\n\"",
		"{\"a\":[true,false,null]}", "\"\xc3\xa9\"",
		"\"\\ud83d\\ude00\"", " [ 1 ] ",
	};
	struct jv v;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		EXPECT_FALSE(json_parse(bad[i], strlen(bad[i]), &v)) {
			TH_LOG("accepted: %s", bad[i]);
		}
	}
	for (i = 0; i < ARRAY_SIZE(good); i++) {
		EXPECT_TRUE(json_parse(good[i], strlen(good[i]), &v)) {
			TH_LOG("refused: %s", good[i]);
		}
		jv_free(&v);
	}
	{
		static const char esc[] = "\"a\\\"b\\\\c\\u0001\"";

		ASSERT_TRUE(json_parse(esc, strlen(esc), &v));
	}
	EXPECT_EQ(6U, v.slen);
	EXPECT_EQ(0, memcmp(v.s, "a\"b\\c\x01", 6));
	jv_free(&v);
}

/* ---- watch ---- */

/* A child that moves messages through id by ID until killed. */
static pid_t start_traffic(uint32_t id)
{
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		int dev = ct_dev_open();
		char buf[16];
		uint32_t len;

		if (dev < 0)
			_exit(CT_EXIT_SETUP);
		for (;;) {
			if (ct_send(dev, id, "tick", 4, CHAN_MSG_NONBLOCK, 0))
				_exit(errno);
			len = sizeof(buf);
			if (ct_recv(dev, id, buf, &len, CHAN_MSG_NONBLOCK, 0))
				_exit(errno);
			ct_sleep_ms(2);
		}
	}
	return pid;
}

/* Count the lines of out that begin with prefix. */
static int count_lines(const char *out, const char *prefix)
{
	const char *line = out;
	size_t pl = strlen(prefix);
	int n = 0;

	while (line && *line) {
		if (!strncmp(line, prefix, pl))
			n++;
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return n;
}

/* Two lines of watch --json: the second has rates, and they moved. */
static void check_watch_json(struct __test_metadata *_metadata,
			     const char *out, uint32_t id)
{
	const char *line2 = strchr(out, '\n');
	uint64_t sent1, sent2;
	struct jv v1, v2;
	const struct jv *c1, *c2;
	double interval, rs, rr, diff;

	ASSERT_NE(NULL, line2);
	line2++;
	ASSERT_EQ(2, count_lines(out, "{"));
	ASSERT_TRUE(json_parse(out, (size_t)(line2 - out), &v1)) {
		TH_LOG("line 1 is not JSON: %s", out);
	}
	ASSERT_TRUE(json_parse(line2, strlen(line2), &v2)) {
		TH_LOG("line 2 is not JSON: %s", line2);
	}
	ASSERT_NE(NULL, jget(&v1, "interval"));
	EXPECT_EQ(J_NULL, jget(&v1, "interval")->t);
	ASSERT_TRUE(jget_double(&v2, "interval", &interval));
	EXPECT_LT(0.5, interval);
	c1 = jfind_id(jget(&v1, "channels"), id);
	c2 = jfind_id(jget(&v2, "channels"), id);
	ASSERT_NE(NULL, c1);
	ASSERT_NE(NULL, c2);
	ASSERT_TRUE(jget_u64(c1, "sent", &sent1));
	ASSERT_TRUE(jget_u64(c2, "sent", &sent2));
	EXPECT_LT(sent1, sent2);
	ASSERT_NE(NULL, jget(c1, "sent_per_s"));
	EXPECT_EQ(J_NULL, jget(c1, "sent_per_s")->t);
	ASSERT_TRUE(jget_double(c2, "sent_per_s", &rs));
	ASSERT_TRUE(jget_double(c2, "received_per_s", &rr));
	EXPECT_LT(0.0, rs);
	EXPECT_LT(0.0, rr);
	/* the rate is what moved over the interval measured */
	diff = rs * interval - (double)(sent2 - sent1);
	EXPECT_GT(0.01 * (double)(sent2 - sent1) + 1.0,
		  diff < 0 ? -diff : diff) {
		TH_LOG("rate %.3f over %.3f s, sent moved %" PRIu64,
		       rs, interval, sent2 - sent1);
	}
	jv_free(&v1);
	jv_free(&v2);
}

/* -n 2 -i 1: two blocks; the second has rates, and they moved. */
TEST_F(ctl, watch_blocks)
{
	char idstr[16], *second, buf[512], *w[16];
	struct ctl_run r;
	double rate;
	uint32_t id;
	int n;

	id = ctl_create(self, 16, 8, 0600, 0, 0, NULL);
	ASSERT_NE(0U, id);
	snprintf(idstr, sizeof(idstr), "%u", id);
	self->pid[0] = start_traffic(id);
	ASSERT_LT(0, self->pid[0]);

	CTL(&r, "watch", "-n", "2", "-i", "1", idstr);
	CTL_EXPECT_STATUS(0, &r);
	ASSERT_NE(NULL, r.out);
	EXPECT_EQ(2, count_lines(r.out, "chanctl watch: sample "));
	EXPECT_EQ(2, count_lines(r.out, "ID "));
	/* The first block has no rates yet; the second does. */
	second = strstr(r.out, "chanctl watch: sample 2");
	ASSERT_NE(NULL, second);
	n = find_row(r.out, id, buf, sizeof(buf), w, 16);
	ASSERT_EQ(8, n);
	EXPECT_STREQ("-", w[3]);
	n = find_row(second, id, buf, sizeof(buf), w, 16);
	ASSERT_EQ(8, n) {
		TH_LOG("watch printed:\n%s", r.out);
	}
	rate = strtod(w[3], NULL);
	EXPECT_LT(0.0, rate) {
		TH_LOG("sent/s %s with traffic:\n%s", w[3], r.out);
	}
	rate = strtod(w[4], NULL);
	EXPECT_LT(0.0, rate);
	EXPECT_STREQ("0.0", w[5]);
	free(r.out);

	/* --json: a line per sample, each a JSON object. */
	CTL(&r, "watch", "-n", "2", "-i", "1", "--json", idstr);
	CTL_EXPECT_STATUS(0, &r);
	ASSERT_NE(NULL, r.out);
	check_watch_json(_metadata, r.out, id);
	free(r.out);
	EXPECT_EQ(CT_WAIT_TIMEOUT, ct_wait_exit(self->pid[0], 0));
	self->pid[0] = 0;
}

/*
 * Read lines of watch --json from cp until one satisfies want(), or
 * timeout_ms: true if one did. Every line must be a JSON object.
 */
struct line_reader {
	char buf[1 << 16];
	size_t len;
	int lines;
	bool bad;
};

static bool read_until(struct ctl_proc *cp, struct line_reader *lr,
		       bool (*want)(const struct jv *v, uint32_t id),
		       uint32_t id, unsigned int timeout_ms)
{
	uint64_t deadline = ct_now_ns() + (uint64_t)timeout_ms * CT_MS;
	struct pollfd pfd = { .fd = cp->out, .events = POLLIN };
	char *nl;
	ssize_t n;
	struct jv v;
	bool hit;

	for (;;) {
		while ((nl = memchr(lr->buf, '\n', lr->len))) {
			size_t ll = (size_t)(nl - lr->buf) + 1;

			lr->lines++;
			if (!json_parse(lr->buf, ll, &v)) {
				lr->bad = true;
				return false;
			}
			hit = v.t == J_OBJ && want(&v, id);
			jv_free(&v);
			memmove(lr->buf, lr->buf + ll, lr->len - ll);
			lr->len -= ll;
			if (hit)
				return true;
		}
		if (ct_now_ns() >= deadline || lr->len == sizeof(lr->buf))
			return false;
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		n = read(cp->out, lr->buf + lr->len, sizeof(lr->buf) - lr->len);
		if (n <= 0)
			return false;
		lr->len += (size_t)n;
	}
}

static bool has_channel(const struct jv *v, uint32_t id)
{
	return jfind_id(jget(v, "channels"), id) != NULL;
}

static bool lacks_channel(const struct jv *v, uint32_t id)
{
	return jget(v, "channels") && !has_channel(v, id);
}

static bool any_line(const struct jv *v, uint32_t id)
{
	(void)v;
	(void)id;
	return true;
}

static bool reports_gone(const struct jv *v, uint32_t id)
{
	const struct jv *gone = jget(v, "gone");
	size_t i;

	for (i = 0; gone && gone->t == J_ARR && i < gone->n; i++)
		if (gone->kids[i].t == J_NUM &&
		    strtoull(gone->kids[i].num, NULL, 10) == id)
			return true;
	return false;
}

/* Channels that come and go between samples; SIGINT ends it cleanly. */
TEST_F(ctl, watch_appear_disappear)
{
	struct line_reader *lr = calloc(1, sizeof(*lr));
	struct ctl_proc cp;
	struct ctl_run r;
	char idstr[16];
	uint32_t id;

	ASSERT_NE(NULL, lr);
	ASSERT_OK(ctl_start(&cp, false, (char *[]){ "chanctl", "watch", "-i",
			    "0.2", "--json", NULL }));
	self->pid[0] = cp.pid;
	ASSERT_TRUE(read_until(&cp, lr, any_line, 0, RUN_MS)) {
		TH_LOG("no first sample (bad JSON: %d)", lr->bad);
	}
	id = ctl_create(self, 8, 2, 0600, 0, 0, NULL);
	ASSERT_NE(0U, id);
	EXPECT_TRUE(read_until(&cp, lr, has_channel, id, RUN_MS));
	ASSERT_OK(ct_destroy(self->dev, id));
	EXPECT_TRUE(read_until(&cp, lr, lacks_channel, id, RUN_MS));
	EXPECT_FALSE(lr->bad);
	ASSERT_OK(kill(cp.pid, SIGINT));
	memset(&r, 0, sizeof(r));
	ctl_finish(&cp, &r, RUN_MS, 0, 0);
	self->pid[0] = 0;
	EXPECT_EQ(0, r.status) {
		TH_LOG("watch after SIGINT: exit %d, stderr %s", r.status,
		       r.err);
	}
	/* What it printed last is whole lines of JSON. */
	if (r.outlen)
		EXPECT_EQ('\n', r.out[r.outlen - 1]);
	free(r.out);

	/* A channel named, destroyed while watched: reported gone. */
	id = ctl_create(self, 8, 2, 0600, 0, 0, NULL);
	ASSERT_NE(0U, id);
	snprintf(idstr, sizeof(idstr), "%u", id);
	memset(lr, 0, sizeof(*lr));
	ASSERT_OK(ctl_start(&cp, false, (char *[]){ "chanctl", "watch", "-i",
			    "0.2", "--json", idstr, NULL }));
	self->pid[0] = cp.pid;
	EXPECT_TRUE(read_until(&cp, lr, has_channel, id, RUN_MS));
	ASSERT_OK(ct_destroy(self->dev, id));
	EXPECT_TRUE(read_until(&cp, lr, reports_gone, id, RUN_MS));
	EXPECT_FALSE(lr->bad);
	/* The text form ends on SIGINT too, with status 0. */
	ctl_finish(&cp, &r, RUN_MS, SIGINT, 0);
	self->pid[0] = 0;
	EXPECT_EQ(0, r.status);
	free(r.out);

	ASSERT_OK(ctl_start(&cp, false, (char *[]){ "chanctl", "watch", "-i",
			    "0.2", NULL }));
	self->pid[0] = cp.pid;
	ctl_finish(&cp, &r, RUN_MS, SIGINT, 1000);
	self->pid[0] = 0;
	EXPECT_EQ(0, r.status);
	ASSERT_NE(NULL, r.out);
	EXPECT_LE(1, count_lines(r.out, "chanctl watch: sample "));
	/* Not a terminal: blocks, never the screen-clearing escape. */
	EXPECT_EQ(NULL, strchr(r.out, '\033'));
	free(r.out);
	free(lr);
}

/*
 * Run chanctl argv with its standard output on a terminal (a pty) for
 * run_ms, then SIGINT it: its exit code, and what it wrote into out.
 */
static int ctl_on_tty(char *const argv[], unsigned int run_ms, char *out,
		      size_t len)
{
	uint64_t start = ct_now_ns(), stop = start + (uint64_t)run_ms * CT_MS;
	struct pollfd pfd;
	size_t got = 0;
	bool sent = false;
	int master, slave;
	ssize_t n;
	pid_t pid;

	master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0 || grantpt(master) || unlockpt(master))
		return CT_EXIT_SETUP;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		setsid();
		slave = open(ptsname(master), O_RDWR);
		if (slave < 0)
			_exit(CT_EXIT_SETUP);
		dup2(slave, STDOUT_FILENO);
		execvp("chanctl", argv);
		_exit(CHANCTL_NOT_FOUND);
	}
	if (pid < 0) {
		close(master);
		return CT_EXIT_SETUP;
	}
	pfd.fd = master;
	pfd.events = POLLIN;
	/* Until a while after the SIGINT: the pty has no EOF to wait for. */
	while (ct_now_ns() < stop + 2000 * CT_MS) {
		if (!sent && ct_now_ns() >= stop) {
			kill(pid, SIGINT);
			sent = true;
		}
		if (sent && ct_exited(pid) && poll(&pfd, 1, 0) <= 0)
			break;
		if (poll(&pfd, 1, 50) <= 0)
			continue;
		n = read(master, out + got, len - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
		if (got == len - 1)
			break;
	}
	out[got] = 0;
	close(master);
	return ct_wait_exit(pid, 5000);
}

/* On a terminal watch redraws the screen; with -n it prints blocks. */
TEST_F(ctl, watch_tty_redraws)
{
	static char out[1 << 16];
	const char *p;
	int clears = 0, samples = 0;

	ASSERT_EQ(0, ctl_on_tty((char *[]){ "chanctl", "watch", "-i", "0.2",
				NULL }, 1500, out, sizeof(out))) {
		TH_LOG("watch on a tty printed: %s", out);
	}
	for (p = out; (p = strstr(p, "\033[H\033[2J")); p++)
		clears++;
	EXPECT_LE(2, clears) {
		TH_LOG("%d screen clears in: %s", clears, out);
	}
	for (p = out; (p = strstr(p, "chanctl watch: sample ")); p++)
		samples++;
	EXPECT_LE(2, samples);

	ASSERT_EQ(0, ctl_on_tty((char *[]){ "chanctl", "watch", "-n", "2",
				"-i", "0.2", NULL }, 3000, out, sizeof(out)));
	EXPECT_EQ(NULL, strchr(out, '\033'));
	EXPECT_EQ(2, count_lines(out, "chanctl watch: sample "));
}

/*
 * create -B / -L make broadcast channels (MODE bcast, bcast+lossless;
 * the flags and lost in stat and --json); recv on one subscribes with an
 * endpoint of its own and gets what is sent from then on.
 */
TEST_F(ctl, broadcast)
{
	char idstr[16], row[512];
	struct chan_info info;
	struct ctl_proc cp;
	struct ctl_run r;
	uint32_t id, lid;
	char *w[16];
	int n, sfd;

	ASSERT_GT(CTL_MAX_CHANS, self->nids + 1);
	CTL(&r, "create", "-B", "-s", "16", "-c", "4");
	CTL_EXPECT_STATUS(0, &r);
	id = r.out ? (uint32_t)strtoul(r.out, NULL, 10) : 0;
	free(r.out);
	ASSERT_NE(0U, id);
	self->ids[self->nids++] = id;
	CTL(&r, "create", "-L", "-a");
	CTL_EXPECT_STATUS(0, &r);
	lid = r.out ? (uint32_t)strtoul(r.out, NULL, 10) : 0;
	free(r.out);
	ASSERT_NE(0U, lid);
	self->ids[self->nids++] = lid;
	ASSERT_OK(info_v2(self->dev, id, &info));
	EXPECT_EQ((uint32_t)CHAN_CREATE_BROADCAST, info.chan_flags);
	ASSERT_OK(info_v2(self->dev, lid, &info));
	EXPECT_EQ((uint32_t)(CHAN_CREATE_BROADCAST | CHAN_CREATE_LOSSLESS |
			     CHAN_CREATE_AUTODESTROY), info.chan_flags);

	CTL(&r, "ls");
	CTL_EXPECT_STATUS(0, &r);
	n = find_row(r.out, id, row, sizeof(row), w, 16);
	EXPECT_EQ(13, n);
	if (n == 13)
		EXPECT_STREQ("bcast", w[11]);
	n = find_row(r.out, lid, row, sizeof(row), w, 16);
	EXPECT_EQ(13, n);
	if (n == 13)
		EXPECT_STREQ("bcast+lossless+auto", w[11]);
	free(r.out);

	snprintf(idstr, sizeof(idstr), "%u", id);
	CTL(&r, "stat", idstr);
	CTL_EXPECT_STATUS(0, &r);
	EXPECT_NE(NULL, strstr(r.out, " broadcast"));
	EXPECT_EQ(NULL, strstr(r.out, " lossless"));
	EXPECT_NE(NULL, strstr(r.out, "lost:       0"));
	free(r.out);
	CTL(&r, "stat", idstr, "--json");
	CTL_EXPECT_STATUS(0, &r);
	EXPECT_NE(NULL, strstr(r.out, "\"kind\":\"bcast\""));
	EXPECT_NE(NULL, strstr(r.out, "\"lost\":0"));
	free(r.out);

	/* recv subscribes: it waits for what comes after it opened. */
	sfd = ct_open(self->dev, id, CHAN_ROLE_SEND, 0, 0);
	ASSERT_LE(0, sfd);
	ASSERT_OK(ct_send(sfd, 0, "before", 6, 0, 0));
	ASSERT_OK(ctl_start(&cp, false, (char *[]){ "chanctl", "recv", idstr,
						     "-c", "2", "-t", "20000",
						     NULL }));
	/* Its endpoint is counted once it opened. */
	for (n = 0; n < 2000; n++) {
		ASSERT_OK(info_v2(self->dev, id, &info));
		if (info.receivers == 1)
			break;
		ct_sleep_ms(5);
	}
	EXPECT_EQ(1U, info.receivers);
	ASSERT_OK(ct_send(sfd, 0, "one", 3, 0, 0));
	ASSERT_OK(ct_send(sfd, 0, "two", 3, 0, 0));
	ctl_finish(&cp, &r, RUN_MS, 0, 0);
	CTL_EXPECT_STATUS(0, &r);
	EXPECT_STREQ("one\ntwo\n", r.out);
	free(r.out);
	close(sfd);
}

/* ---- exit status ---- */

/*
 * create -C makes a CRC32C channel (MODE mpmc+crc, the flag in stat);
 * close closes a channel: its state says closed, a send then fails, recv
 * drains what was queued, a second close fails (1), a missing channel is
 * 3, and someone who does not own it may not (1); reopen undoes it, for
 * the owner only.
 */
TEST_F(ctl, close_and_crc)
{
	char name[CHAN_NAME_MAX], idstr[16], row[512];
	struct chan_info info;
	struct ctl_run r;
	uint32_t id;
	char *w[16];
	int n;

	ct_name(name, sizeof(name), "closecrc");
	ASSERT_GT(CTL_MAX_CHANS, self->nids);
	CTL(&r, "create", "-C", "-m", "0666", "-n", name);
	CTL_EXPECT_STATUS(0, &r);
	id = r.out ? (uint32_t)strtoul(r.out, NULL, 10) : 0;
	free(r.out);
	ASSERT_NE(0U, id);
	self->ids[self->nids++] = id;
	snprintf(idstr, sizeof(idstr), "%u", id);
	ASSERT_OK(info_v2(self->dev, id, &info));
	EXPECT_EQ((uint32_t)CHAN_CREATE_CRC32C, info.chan_flags);

	CTL(&r, "ls");
	CTL_EXPECT_STATUS(0, &r);
	n = find_row(r.out, id, row, sizeof(row), w, 16);
	free(r.out);
	ASSERT_EQ(13, n);
	EXPECT_STREQ("mpmc+crc", w[11]);

	CTL(&r, "send", name, "one", "two");
	CTL_EXPECT_STATUS(0, &r);
	free(r.out);
	CTL_NOBODY(&r, "close", idstr);
	CTL_EXPECT_STATUS(1, &r);		/* EPERM: not the owner */
	free(r.out);
	CTL(&r, "close", name);
	CTL_EXPECT_STATUS(0, &r);
	free(r.out);
	CTL(&r, "close", idstr);
	CTL_EXPECT_STATUS(1, &r);		/* EALREADY */
	EXPECT_NE(NULL, strstr(r.err, "lready"));
	free(r.out);
	CTL(&r, "ls");
	CTL_EXPECT_STATUS(0, &r);
	n = find_row(r.out, id, row, sizeof(row), w, 16);
	free(r.out);
	ASSERT_EQ(13, n);
	EXPECT_STREQ("mpmc+crc+closed", w[11]);
	CTL(&r, "stat", idstr);
	CTL_EXPECT_STATUS(0, &r);
	EXPECT_NE(NULL, strstr(r.out, "state:      closed"));
	EXPECT_NE(NULL, strstr(r.out, " crc32c"));
	EXPECT_NE(NULL, strstr(r.out, "corrupt:    0"));
	free(r.out);
	CTL(&r, "send", idstr, "three");
	CTL_EXPECT_STATUS(1, &r);		/* EPIPE */
	free(r.out);
	CTL(&r, "recv", idstr, "-c", "0");
	CTL_EXPECT_STATUS(0, &r);
	EXPECT_STREQ("one\ntwo\n", r.out);
	free(r.out);
	CTL(&r, "recv", idstr);
	CTL_EXPECT_STATUS(1, &r);		/* EPIPE, not a wait */
	free(r.out);
	CTL(&r, "close", "no-such-channel-at-all");
	CTL_EXPECT_STATUS(3, &r);
	free(r.out);

	/* Only the owner reopens; then sends go through again. */
	CTL_NOBODY(&r, "reopen", idstr);
	CTL_EXPECT_STATUS(1, &r);		/* EPERM */
	free(r.out);
	CTL(&r, "reopen", name);
	CTL_EXPECT_STATUS(0, &r);
	free(r.out);
	CTL(&r, "reopen", name);
	CTL_EXPECT_STATUS(1, &r);		/* EALREADY: open */
	free(r.out);
	CTL(&r, "send", idstr, "four");
	CTL_EXPECT_STATUS(0, &r);
	free(r.out);
	CTL(&r, "recv", idstr);
	CTL_EXPECT_STATUS(0, &r);
	EXPECT_STREQ("four\n", r.out);
	free(r.out);
}

/*
 * create -S makes a byte stream (MODE stream, the flag in stat); send
 * writes each MESSAGE's bytes as they are, recv copies bytes as they are:
 * -c COUNT at most COUNT bytes, -c 0 what is there; once the stream is
 * closed and drained recv ends quietly. A stream cannot be mappable.
 */
TEST_F(ctl, stream)
{
	char name[CHAN_NAME_MAX], idstr[16], row[512];
	struct chan_info info;
	struct ctl_run r;
	uint32_t id;
	char *w[16];
	int n;

	ct_name(name, sizeof(name), "ctlstream");
	ASSERT_GT(CTL_MAX_CHANS, self->nids);
	CTL(&r, "create", "-S", "-s", "4", "-n", name);
	CTL_EXPECT_STATUS(0, &r);
	id = r.out ? (uint32_t)strtoul(r.out, NULL, 10) : 0;
	free(r.out);
	ASSERT_NE(0U, id);
	self->ids[self->nids++] = id;
	snprintf(idstr, sizeof(idstr), "%u", id);
	ASSERT_OK(info_v2(self->dev, id, &info));
	EXPECT_EQ((uint32_t)CHAN_CREATE_STREAM, info.chan_flags);

	CTL(&r, "ls");
	CTL_EXPECT_STATUS(0, &r);
	n = find_row(r.out, id, row, sizeof(row), w, 16);
	free(r.out);
	ASSERT_EQ(13, n);
	EXPECT_STREQ("stream", w[11]);
	CTL(&r, "stat", idstr);
	CTL_EXPECT_STATUS(0, &r);
	EXPECT_NE(NULL, strstr(r.out, " stream"));
	free(r.out);

	/* Each MESSAGE in atomic pieces of 4: 4 + 1, 4 + 1. */
	CTL(&r, "send", name, "hello", "world");
	CTL_EXPECT_STATUS(0, &r);
	free(r.out);
	ASSERT_OK(info_v2(self->dev, id, &info));
	EXPECT_EQ(4ULL, info.sent);
	CTL(&r, "recv", idstr, "-c", "3");
	CTL_EXPECT_STATUS(0, &r);
	EXPECT_STREQ("hel", r.out);
	free(r.out);
	CTL(&r, "recv", idstr, "-c", "0");
	CTL_EXPECT_STATUS(0, &r);
	EXPECT_STREQ("loworld", r.out);
	free(r.out);
	CTL(&r, "send", idstr, "end");
	CTL_EXPECT_STATUS(0, &r);
	free(r.out);
	CTL(&r, "close", idstr);
	CTL_EXPECT_STATUS(0, &r);
	free(r.out);
	/* Closed: recv takes the rest and ends without waiting. */
	CTL(&r, "recv", idstr);
	CTL_EXPECT_STATUS(0, &r);
	EXPECT_STREQ("end", r.out);
	free(r.out);
	CTL(&r, "ls");
	CTL_EXPECT_STATUS(0, &r);
	n = find_row(r.out, id, row, sizeof(row), w, 16);
	free(r.out);
	ASSERT_EQ(13, n);
	EXPECT_STREQ("stream+closed", w[11]);

	/* A mappable stream is made; a checked one is not (yet). */
	CTL(&r, "create", "-S", "-M");
	CTL_EXPECT_STATUS(0, &r);
	id = r.out ? (uint32_t)strtoul(r.out, NULL, 10) : 0;
	free(r.out);
	ASSERT_NE(0U, id);
	ASSERT_GT(CTL_MAX_CHANS, self->nids);
	self->ids[self->nids++] = id;
	ASSERT_OK(info_v2(self->dev, id, &info));
	EXPECT_EQ((uint32_t)(CHAN_CREATE_STREAM | CHAN_CREATE_MAPPABLE),
		  info.chan_flags);
	CTL(&r, "create", "-S", "-C");
	CTL_EXPECT_STATUS(1, &r);		/* EINVAL */
	free(r.out);
}

TEST_F(ctl, exit_status)
{
	char name[CHAN_NAME_MAX], missing_name[CHAN_NAME_MAX], idstr[16];
	char gone[16];
	struct ctl_run r;
	uint32_t id, tmp;

	ct_name(name, sizeof(name), "exit");
	ct_name(missing_name, sizeof(missing_name), "no-such");
	id = ctl_create(self, 8, 2, 0644, 0, 0, name);
	ASSERT_NE(0U, id);
	snprintf(idstr, sizeof(idstr), "%u", id);
	/* An ID that existed and is gone. */
	ASSERT_OK(ct_create_simple(self->dev, 8, 2, &tmp));
	ASSERT_OK(ct_destroy(self->dev, tmp));
	snprintf(gone, sizeof(gone), "%u", tmp);

	/* 0: success */
	CTL(&r, "stat", idstr);
	CTL_EXPECT_STATUS(0, &r);
	free(r.out);
	CTL(&r, "stat", name);
	CTL_EXPECT_STATUS(0, &r);
	free(r.out);
	CTL(&r, "watch", "-n", "1", name);
	CTL_EXPECT_STATUS(0, &r);
	free(r.out);

	/* 3: no such channel */
	CTL(&r, "stat", gone);
	CTL_EXPECT_STATUS(3, &r);
	free(r.out);
	CTL(&r, "info", missing_name);
	CTL_EXPECT_STATUS(3, &r);
	free(r.out);
	CTL(&r, "rm", gone);
	CTL_EXPECT_STATUS(3, &r);
	free(r.out);
	CTL(&r, "send", gone, "x");
	CTL_EXPECT_STATUS(3, &r);
	free(r.out);
	CTL(&r, "recv", missing_name, "-N");
	CTL_EXPECT_STATUS(3, &r);
	free(r.out);
	CTL(&r, "watch", "-n", "1", gone);
	CTL_EXPECT_STATUS(3, &r);
	free(r.out);

	/* 1: the operation failed */
	CTL(&r, "create", "-n", name);
	CTL_EXPECT_STATUS(1, &r);		/* EEXIST */
	free(r.out);
	CTL(&r, "recv", idstr, "-N");
	CTL_EXPECT_STATUS(1, &r);		/* EAGAIN */
	free(r.out);
	CTL_NOBODY(&r, "rm", idstr);
	CTL_EXPECT_STATUS(1, &r);		/* EPERM */
	free(r.out);
	CTL_NOBODY(&r, "rm", gone, idstr);
	CTL_EXPECT_STATUS(1, &r);		/* ENOENT and EPERM: 1 */
	free(r.out);
	CTL(&r, "create", "-s", "0");
	CTL_EXPECT_STATUS(1, &r);		/* EINVAL */
	free(r.out);

	/* 2: usage */
	CTL(&r, "stat");
	CTL_EXPECT_STATUS(2, &r);
	free(r.out);
	CTL(&r, "stat", idstr, "extra");
	CTL_EXPECT_STATUS(2, &r);
	free(r.out);
	CTL(&r, "ls", "extra");
	CTL_EXPECT_STATUS(2, &r);
	free(r.out);
	CTL(&r, "ls", "--bogus");
	CTL_EXPECT_STATUS(2, &r);
	free(r.out);
	CTL(&r, "watch", "-i", "abc");
	CTL_EXPECT_STATUS(2, &r);
	free(r.out);
	CTL(&r, "watch", "-n", "0");
	CTL_EXPECT_STATUS(2, &r);
	free(r.out);
	CTL(&r, "frobnicate");
	CTL_EXPECT_STATUS(2, &r);
	free(r.out);
	CTL(&r, "help");
	CTL_EXPECT_STATUS(0, &r);
	EXPECT_NE(NULL, r.out && strstr(r.out, "watch [-i SECONDS]") ? r.out : NULL);
	free(r.out);

	/* the channel is still there after all of that */
	CTL(&r, "stat", idstr);
	CTL_EXPECT_STATUS(0, &r);
	free(r.out);
}

CT_HARNESS_MAIN
