#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

/* Size of dir/name, or -1 when there is no such file. */
static long
size_of(const char *dir, const char *name)
{
	char p[256];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return stat(p, &st) == 0 ? (long)st.st_size : -1;
}

/*
 * Rotation: past 300 bytes x.log becomes x.log.1 (x.log.1 becomes
 * x.log.2), two are kept, and the lines go on in a new x.log. A stderr
 * that is not dir/x.log (a pipe, another file) is never rotated.
 */
static void
test_rotate(void)
{
	char dir[] = "/tmp/hplogrotXXXXXX", p[256];
	int fd, saved, i;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(p, sizeof(p), "%s/x.log", dir);
	fd = open(p, O_WRONLY | O_CREAT | O_APPEND, 0600);
	CHECK(fd != -1);
	fflush(stderr);
	saved = dup(2);
	dup2(fd, 2);
	close(fd);
	log_init("test", 0);
	log_rotate_init(dir, "x.log", 300, 2);
	for (i = 0; i < 40; i++)
		log_info("line %d of a log that grows past its size", i);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	CHECK(size_of(dir, "x.log") != -1);
	CHECK(size_of(dir, "x.log.1") > 0);
	CHECK(size_of(dir, "x.log.2") > 0);
	CHECK(size_of(dir, "x.log.3") == -1);
	/* At most one line past the size. */
	CHECK_MSG(size_of(dir, "x.log.1") < 300 + 128, "x.log.1: %ld bytes",
	    size_of(dir, "x.log.1"));
	CHECK(size_of(dir, "x.log") <= 300 + 128);
	snprintf(p, sizeof(p), "rm -rf %s", dir);
	CHECK(system(p) == 0);

	/* stderr on another file of the same name elsewhere: no rotation. */
	CHECK(mkdtemp(strcpy(dir, "/tmp/hplogrotXXXXXX")) != NULL);
	snprintf(p, sizeof(p), "%s/other.log", dir);
	fd = open(p, O_WRONLY | O_CREAT | O_APPEND, 0600);
	fflush(stderr);
	saved = dup(2);
	dup2(fd, 2);
	close(fd);
	snprintf(p, sizeof(p), "%s/x.log", dir);
	close(open(p, O_WRONLY | O_CREAT, 0600));
	log_rotate_init(dir, "x.log", 300, 2);
	for (i = 0; i < 40; i++)
		log_info("line %d of a log that grows past its size", i);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	CHECK(size_of(dir, "other.log") > 40 * 40);
	CHECK(size_of(dir, "x.log.1") == -1);
	snprintf(p, sizeof(p), "rm -rf %s", dir);
	CHECK(system(p) == 0);
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
	test_rotate();
	return t_done("test_log");
}
