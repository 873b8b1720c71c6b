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
#include <time.h>
#include <unistd.h>

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
	    "  --home DIR     the state directory (default: $HOOKPIPE_HOME)\n"
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

/*
 * Captured output, each line indented, escaped like the rest: its last
 * max lines (0: all of them). Returns how many lines were left out.
 */
int
print_lines_of(FILE *f, const char *indent, const void *data, size_t n,
    int max)
{
	const char *p = data, *end = p + n;
	int lines = 0, skip = 0;
	const char *q;

	if (n > 0 && end[-1] == '\n')
		end--;
	for (q = p; q < end; q++)
		lines += *q == '\n';
	lines++;
	if (n == 0)
		return 0;
	if (max > 0 && lines > max)
		skip = lines - max;
	for (lines = 0; p < end; lines++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);

		if (lines >= skip) {
			fputs(indent, f);
			log_escape(f, p, len, 0);
			fputc('\n', f);
		}
		p += len + (nl != NULL);
	}
	return skip;
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

/*
 * Color says at a glance which rows need a look, on a terminal only: not
 * in a pipe or a file, and never with NO_COLOR set (no-color.org) or on
 * a dumb terminal. The sequences are ours, around words of ours (a
 * status); text from outside never carries one (print_safe).
 */
int
color_on(FILE *f)
{
	const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");

	return isatty(fileno(f)) && (nc == NULL || *nc == '\0') &&
	    (term == NULL || strcmp(term, "dumb") != 0);
}

/* The SGR code of a status word, or NULL. */
static const char *
status_sgr(const char *word)
{
	static const struct {
		const char	*word, *sgr;
	} map[] = {
		{ "succeeded", "32" }, { "ok", "32" }, { "up", "32" },
		{ "published", "32" }, { "routed", "32" },
		{ "failed", "31" }, { "dead", "31" }, { "rejected", "31" },
		{ "error", "31" }, { "FAIL", "1;31" }, { "down", "31" },
		{ "queued", "33" }, { "running", "33" }, { "warn", "33" },
		{ "WARN", "1;33" }, { "stored", "33" },
		{ "ignored", "2" }, { "draft", "2" }, { "disabled", "2" },
		{ "quarantined", "2" },
	};
	size_t i, n = strcspn(word, " ");

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strlen(map[i].word) == n && strncmp(word, map[i].word,
		    n) == 0)
			return map[i].sgr;
	return NULL;
}

/* A status word, colored when f is a terminal that wants color. */
void
print_status(FILE *f, const char *word)
{
	const char *sgr = color_on(f) ? status_sgr(word) : NULL;

	if (sgr != NULL)
		fprintf(f, "\033[%sm", sgr);
	print_safe(f, word);
	if (sgr != NULL)
		fputs("\033[0m", f);
}

/* Column col (0-based) holds status words: colored on a terminal. */
void
table_color(struct table *t, int col)
{
	t->color_col = col + 1;
}

void
table_print(const struct table *t, FILE *f)
{
	size_t width[32] = { 0 }, i;
	int c, color = t->color_col > 0 && color_on(f);

	for (i = 0; i < t->ncells; i++) {
		size_t w = text_width(t->cells[i]);

		c = (int)(i % (size_t)t->ncol);
		if (c < 32 && w > width[c])
			width[c] = w;
	}
	for (i = 0; i < t->ncells; i++) {
		const char *sgr = NULL;

		c = (int)(i % (size_t)t->ncol);
		if (color && c == t->color_col - 1 && i >= (size_t)t->ncol)
			sgr = status_sgr(t->cells[i]);
		if (sgr != NULL)
			fprintf(f, "\033[%sm%s\033[0m", sgr, t->cells[i]);
		else
			fputs(t->cells[i], f);
		if (c == t->ncol - 1)
			fputc('\n', f);
		else
			fprintf(f, "%*s", (int)(width[c] -
			    text_width(t->cells[i]) + 2), "");
	}
}

/* The table, or the line that says it is empty (a list with no rows). */
void
table_print_or(const struct table *t, FILE *f, const char *none)
{
	if (t->ncells > (size_t)t->ncol)
		table_print(t, f);
	else
		fprintf(f, "%s\n", none);
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

/* One JSON document on one line (JSON Lines), not freed. */
int
json_line(FILE *f, json_t *v)
{
	char *s = v != NULL ? json_dumps(v, JSON_COMPACT |
	    JSON_ENCODE_ANY) : NULL;

	if (s == NULL)
		return -1;
	log_escape(f, s, strlen(s), LOG_ESC_JSON);
	fputc('\n', f);
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

/*
 * A table says how long ago ("3m ago", "in 25s" for a time to come): the
 * question a reader of a list asks. JSON keeps the RFC 3339 time, with
 * its microseconds.
 */
const char *
time_str(int64_t us, char *buf, size_t len)
{
	static const struct {
		int64_t	 secs;
		char	 unit;
	} units[] = {
		{ 86400, 'd' }, { 3600, 'h' }, { 60, 'm' }, { 1, 's' }
	};
	int64_t d;
	int future;
	size_t i;

	if (us == 0)
		return "-";
	d = (now_us() - us) / 1000000;
	if ((future = d < 0))
		d = -d;
	if (d == 0)
		return "now";
	for (i = 0; i < sizeof(units) / sizeof(units[0]) - 1; i++)
		if (d >= units[i].secs * (i == 0 ? 2 : 1))
			break;
	snprintf(buf, len, "%s%lld%c%s", future ? "in " : "",
	    (long long)(d / units[i].secs), units[i].unit, future ? "" :
	    " ago");
	return buf;
}

/* The microseconds of an RFC 3339 time in UTC as json_time writes it. */
int64_t
rfc3339_us(const char *s)
{
	struct tm tm;
	const char *p;
	int64_t us = 0, scale = 100000;

	memset(&tm, 0, sizeof(tm));
	if (s == NULL || (p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
		return 0;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
			us += (*p - '0') * scale;
	return (int64_t)timegm(&tm) * 1000000 + us;
}

/* "2026-01-02T03:04:05Z (3m ago)": a time on a line of its own. */
const char *
time_long(int64_t us, char *buf, size_t len)
{
	char full[40], rel[32];

	if (us == 0)
		return "-";
	fmt_rfc3339(us, full, sizeof(full));
	snprintf(buf, len, "%.19sZ (%s)", full, time_str(us, rel,
	    sizeof(rel)));
	return buf;
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
