/*
 * Output: error lines, usage text, aligned tables and the JSON values
 * every command shares. Tables and text go to stdout for people; with
 * --json a command builds one jansson document and hands it to
 * json_print().
 *
 * Everything printed here may quote what a sender chose (a header, an
 * event type, a run's output, a provider's error): it all goes through
 * log_escape(), so that no control character reaches the terminal raw.
 * Commands print text from the database with print_safe() and
 * print_field(), never with a bare %s.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "log.h"
#include "util.h"

/* A message formatted, then written on one line with its escapes. */
static void
vprint_line(FILE *f, const char *fmt, va_list ap)
{
	char *msg;
	int n;

	if ((n = vasprintf(&msg, fmt, ap)) < 0) {
		fputs(fmt, f);
		return;
	}
	log_escape(f, msg, (size_t)n, 0);
	free(msg);
}

static void
vmsg(const char *what, const char *fmt, va_list ap)
{
	fprintf(stderr, "hookpipe: %s", what);
	vprint_line(stderr, fmt, ap);
	fputc('\n', stderr);
}

void
errmsg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("", fmt, ap);
	va_end(ap);
}

void
warnmsg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("warning: ", fmt, ap);
	va_end(ap);
}

int
fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("", fmt, ap);
	va_end(ap);
	return EXIT_FAIL;
}

/* One line: what is wrong, then where to read how it is done. */
int
usage_error(const struct ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	fputs("hookpipe: ", stderr);
	va_start(ap, fmt);
	vprint_line(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "; see 'hookpipe %s%s--help'\n", ctx->path,
	    ctx->path[0] ? " " : "");
	return EXIT_USAGE;
}

int
db_error(int rc)
{
	if (rc == -1)
		return fail("database: a damaged record (details in the log)");
	return fail("database: %s", mdb_strerror(rc));
}

/* Words filled to 76 columns, indented by two; '\n' breaks a line. */
static void
print_wrapped(FILE *f, const char *text)
{
	const char *p = text;
	size_t col = 0;

	while (*p != '\0') {
		size_t n = strcspn(p, " \n");

		if (col > 0 && col + 1 + n > 76) {
			fputc('\n', f);
			col = 0;
		}
		if (col == 0) {
			fputs("  ", f);
			col = 2;
		} else {
			fputc(' ', f);
			col++;
		}
		fwrite(p, 1, n, f);
		col += n;
		p += n;
		if (*p == '\n') {
			fputc('\n', f);
			col = 0;
		}
		while (*p == ' ' || *p == '\n')
			p++;
	}
	if (col > 0)
		fputc('\n', f);
}

static void
print_leaves(FILE *f, const struct cmd *group)
{
	const struct cmd *c;

	for (c = group->sub; c->name != NULL; c++) {
		if (c->sub != NULL)
			print_leaves(f, c);
		else
			fprintf(f, "  hookpipe %s\n", c->usage);
	}
}

void
print_usage(FILE *f, const struct cmd *c)
{
	if (c->sub == NULL)
		fprintf(f, "usage: hookpipe %s\n", c->usage);
	else {
		fprintf(f, "usage:\n");
		print_leaves(f, c);
	}
	if (c->help != NULL) {
		fputc('\n', f);
		print_wrapped(f, c->help);
	}
	fprintf(f, "\nglobal options:\n"
	    "  --workspace W  the workspace (default: $HOOKPIPE_WORKSPACE or "
	    "\"default\")\n"
	    "  --json         print one JSON document\n"
	    "  -h, --help     this text\n");
}

/* --- text from outside --- */

void
print_safe(FILE *f, const char *s)
{
	if (s == NULL)
		s = "-";
	log_escape(f, s, strlen(s), 0);
}

void
print_block(FILE *f, const void *data, size_t n)
{
	log_escape(f, data, n, LOG_ESC_LINES);
}

/* "label:   value", the value padded to column width + 1. */
void
print_field(FILE *f, const char *label, int width, const char *value)
{
	fprintf(f, "%s:%*s", label, width - (int)strlen(label), "");
	print_safe(f, value);
	fputc('\n', f);
}

/* The escaped text in a malloc'd string; exits on no memory. */
char *
str_safe(const char *s)
{
	size_t len;
	char *out;
	FILE *f;

	if ((f = open_memstream(&out, &len)) == NULL) {
		perror("hookpipe");
		exit(EXIT_FAIL);
	}
	print_safe(f, s);
	if (fclose(f) != 0) {
		perror("hookpipe");
		exit(EXIT_FAIL);
	}
	return out;
}

/* --- tables --- */

static void
table_push(struct table *t, const char *s)
{
	if (t->ncells == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		char **p = realloc(t->cells, cap * sizeof(*p));

		if (p == NULL) {
			perror("hookpipe");
			exit(EXIT_FAIL);
		}
		t->cells = p;
		t->cap = cap;
	}
	t->cells[t->ncells++] = str_safe(s ? s : "-");
}

void
table_init(struct table *t, int ncol, ...)
{
	va_list ap;
	int i;

	memset(t, 0, sizeof(*t));
	t->ncol = ncol;
	va_start(ap, ncol);
	for (i = 0; i < ncol; i++)
		table_push(t, va_arg(ap, const char *));
	va_end(ap);
}

/* ncol strings; NULL prints as "-". */
void
table_row(struct table *t, ...)
{
	va_list ap;
	int i;

	va_start(ap, t);
	for (i = 0; i < t->ncol; i++)
		table_push(t, va_arg(ap, const char *));
	va_end(ap);
}

/* Columns count characters, not bytes, so UTF-8 text lines up. */
static size_t
text_width(const char *s)
{
	size_t w = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

void
table_print(const struct table *t, FILE *f)
{
	size_t width[32] = { 0 }, i;
	int c;

	for (i = 0; i < t->ncells; i++) {
		size_t w = text_width(t->cells[i]);

		c = (int)(i % (size_t)t->ncol);
		if (c < 32 && w > width[c])
			width[c] = w;
	}
	for (i = 0; i < t->ncells; i++) {
		c = (int)(i % (size_t)t->ncol);
		fputs(t->cells[i], f);
		if (c == t->ncol - 1)
			fputc('\n', f);
		else
			fprintf(f, "%*s", (int)(width[c] -
			    text_width(t->cells[i]) + 2), "");
	}
}

void
table_free(struct table *t)
{
	size_t i;

	for (i = 0; i < t->ncells; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}

/* --- values --- */

/*
 * jansson escapes C0 in strings; DEL and C1 it writes as they are, and
 * they become \u007f and \u009b here, which is still the same JSON.
 */
int
print_json(FILE *f, json_t *v)
{
	char *s = v != NULL ? json_dumps(v, JSON_INDENT(2) |
	    JSON_ENCODE_ANY) : NULL;

	if (s == NULL)
		return -1;
	log_escape(f, s, strlen(s), LOG_ESC_JSON | LOG_ESC_LINES);
	free(s);
	return 0;
}

int
json_print(json_t *doc)
{
	int rc = print_json(stdout, doc);

	json_decref(doc);
	fputc('\n', stdout);
	return rc == 0 && !ferror(stdout) ? EXIT_OK :
	    fail("cannot write the output");
}

json_t *
json_time(int64_t us)
{
	char buf[40];

	if (us == 0)
		return json_null();
	return json_string(fmt_rfc3339(us, buf, sizeof(buf)));
}

/* Seconds are enough in a table; JSON keeps the microseconds. */
const char *
time_str(int64_t us, char *buf, size_t len)
{
	char full[40];

	if (us == 0)
		return "-";
	fmt_rfc3339(us, full, sizeof(full));
	snprintf(buf, len, "%.19sZ", full);
	return buf;
}

/*
 * Captured output is whatever a command printed; JSON strings must be
 * UTF-8, so a byte that is not becomes U+FFFD.
 */
json_t *
json_lossy(const void *data, size_t n)
{
	const unsigned char *p = data;
	struct buf b = { 0 };
	json_t *s;
	size_t i, l;

	if (n == 0)
		return json_string("");
	if ((s = json_stringn(data, n)) != NULL)
		return s;
	for (i = 0; i < n; i += l) {
		if ((l = log_utf8_len(p + i, n - i, NULL)) == 0) {
			buf_append(&b, "\xef\xbf\xbd", 3);
			l = 1;
		} else
			buf_append(&b, p + i, l);
	}
	s = json_stringn(b.data ? b.data : "", b.len);
	buf_free(&b);
	return s;
}

json_t *
json_or_string(const void *data, size_t n)
{
	json_t *v;

	if (n > 0 && (v = json_loadb(data, n, JSON_DECODE_ANY, NULL)) != NULL)
		return v;
	return json_lossy(data, n);
}

json_t *
json_event_list(const char *events)
{
	json_t *a = json_array();
	const char *p = events;

	while (*p != '\0') {
		size_t n = strcspn(p, ",");

		if (n > 0)
			json_array_append_new(a, json_stringn(p, n));
		p += n + (p[n] == ',');
	}
	return a;
}

/* A JSON body pretty-printed; anything else as lines of text. */
void
print_pretty(FILE *f, const void *data, size_t n)
{
	json_t *v = n > 0 ? json_loadb(data, n, JSON_DECODE_ANY, NULL) : NULL;

	if (v != NULL) {
		print_json(f, v);
		json_decref(v);
	} else
		print_block(f, data, n);
	if (v != NULL || n == 0 || ((const char *)data)[n - 1] != '\n')
		fputc('\n', f);
}
