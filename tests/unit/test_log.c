#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "t.h"

/* log_escape's output for a text, NUL-terminated (malloc'd). */
static char *
esc(const char *in, size_t n, int flags)
{
	char *out;
	size_t len;
	FILE *f = open_memstream(&out, &len);

	log_escape(f, in, n, flags);
	fclose(f);
	return out;
}

static int
esc_is(const char *in, int flags, const char *want)
{
	char *got = esc(in, strlen(in), flags);
	int ok = strcmp(got, want) == 0;

	if (!ok)
		printf("# escape of \"%s\": got \"%s\", want \"%s\"\n", in, got,
		    want);
	free(got);
	return ok;
}

int
main(void)
{
	char path[] = "/tmp/hplogXXXXXX", line[512];
	FILE *f;
	int fd, saved;
	char *got;

	/* C0, DEL and C1 become visible; text stays as it is. */
	CHECK(esc_is("plain text, é, 日本, \xf0\x9f\x99\x82", 0,
	    "plain text, é, 日本, \xf0\x9f\x99\x82"));
	CHECK(esc_is("a\x1b[31mred\x07", 0, "a\\x1b[31mred\\x07"));
	CHECK(esc_is("one\ntwo\tthree\rfour", 0,
	    "one\\ntwo\\tthree\\rfour"));
	CHECK(esc_is("one\ntwo\tthree\rfour", LOG_ESC_LINES,
	    "one\ntwo\tthree\\rfour"));
	CHECK(esc_is("del\x7f", 0, "del\\x7f"));
	CHECK(esc_is("csi\xc2\x9b" "2J", 0, "csi\\u009b2J"));
	CHECK(esc_is("nel\xc2\x85", 0, "nel\\u0085"));
	CHECK(esc_is("\xc2\xa0nbsp", 0, "\xc2\xa0nbsp"));
	/* Bytes that are not UTF-8: a lone CSI, a cut or overlong form. */
	CHECK(esc_is("lone\x9b[2J", 0, "lone\\x9b[2J"));
	CHECK(esc_is("cut\xe6\x97", 0, "cut\\xe6\\x97"));
	CHECK(esc_is("long\xc0\x80", 0, "long\\xc0\\x80"));
	CHECK(esc_is("sur\xed\xa0\x80", 0, "sur\\xed\\xa0\\x80"));
	/* JSON: escapes JSON reads back as the same characters. */
	CHECK(esc_is("{\"a\":\"x\x7fy\xc2\x9bz\"}", LOG_ESC_JSON,
	    "{\"a\":\"x\\u007fy\\u009bz\"}"));
	CHECK(esc_is("{\"a\":\"\x1b\"}", LOG_ESC_JSON, "{\"a\":\"\\u001b\"}"));
	CHECK(esc_is("\x9b", LOG_ESC_JSON, "\\ufffd"));
	CHECK(esc_is("[\n  1\n]", LOG_ESC_JSON | LOG_ESC_LINES, "[\n  1\n]"));
	/* A NUL inside the text is escaped, not an end. */
	got = esc("a\0b", 3, 0);
	CHECK(strcmp(got, "a\\x00b") == 0);
	free(got);

	/* A log line stays one line, without the sender's escapes. */
	CHECK((fd = mkstemp(path)) != -1);
	fflush(stderr);
	saved = dup(2);
	dup2(fd, 2);
	log_init("test", 0);
	log_info("event type %s from %s", "x\x1b]0;owned\x07", "a\nb");
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	f = fopen(path, "r");
	CHECK(f != NULL && fgets(line, sizeof(line), f) != NULL);
	CHECK(strstr(line, "test: event type x\\x1b]0;owned\\x07 from a\\nb\n")
	    != NULL);
	CHECK(fgets(line, sizeof(line), f) == NULL);
	fclose(f);
	close(fd);
	unlink(path);
	return t_done("test_log");
}
