#include <dlfcn.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "t.h"
#include "util.h"

int
main(void)
{
	struct buf b = { 0 };
	unsigned char be[8];
	char ts[40], small[4];
	int64_t v;
	pid_t parent, child;
	int st;

	/* getpid from memory (common/pid.c): the libraries' calls come to
	 * it, and a forked child gets its own id. */
	parent = (pid_t)syscall(SYS_getpid);
	CHECK(getpid() == parent);
	CHECK(dlsym(RTLD_DEFAULT, "getpid") == (void *)getpid);
	if ((child = fork()) == 0)
		_exit(getpid() == (pid_t)syscall(SYS_getpid) &&
		    getpid() != parent ? 0 : 1);
	CHECK(child > 0 && waitpid(child, &st, 0) == child &&
	    WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(getpid() == parent);

	CHECK(name_valid("my-sub_1.x"));
	CHECK(!name_valid(""));
	CHECK(!name_valid("-leading"));
	CHECK(!name_valid("has/slash"));
	CHECK(!name_valid("has space"));
	CHECK(!name_valid("a234567890123456789012345678901234567890123456789"
	    "0123456789012345"));	/* 65 characters */
	CHECK(uuid_valid("0f8fad5b-d9cb-469f-a165-70867728950e"));
	CHECK(!uuid_valid("0F8FAD5B-D9CB-469F-A165-70867728950E"));
	CHECK(!uuid_valid("0f8fad5b-d9cb-469f-a165-70867728950"));
	CHECK(!uuid_valid("0f8fad5bxd9cb-469f-a165-70867728950e"));
	CHECK(!uuid_valid("../../../../etc/passwd-aaaaaaaaaaaaa"));

	CHECK(parse_i64("42", 0, 100, &v) == 0 && v == 42);
	CHECK(parse_i64("101", 0, 100, &v) == -1);
	CHECK(parse_i64("", 0, 100, &v) == -1);
	CHECK(parse_i64(" 4", 0, 100, &v) == -1);
	CHECK(parse_i64("4x", 0, 100, &v) == -1);
	CHECK(parse_i64("99999999999999999999999", 0, INT64_MAX, &v) == -1);

	put_be64(be, 0x0102030405060708ULL);
	CHECK(be[0] == 1 && be[7] == 8);
	CHECK(get_be64(be) == 0x0102030405060708ULL);

	CHECK(strcmp(fmt_rfc3339(1614265330123456LL, ts, sizeof(ts)),
	    "2021-02-25T15:02:10.123456Z") == 0);

	CHECK(buf_append(&b, "abc", 3) == 0 && b.len == 3);
	CHECK(buf_appendf(&b, "-%d", 12) == 0 && strcmp(b.data, "abc-12") == 0);
	for (int i = 0; i < 10000; i++)
		buf_append(&b, "x", 1);
	CHECK(b.len == 10006 && b.data[b.len] == '\0');
	buf_reset(&b);
	CHECK(b.len == 0 && b.data[0] == '\0');
	buf_free(&b);

	CHECK(str_copy(small, "hello", sizeof(small)) == 5 &&
	    strcmp(small, "hel") == 0);
	return t_done("test_util");
}
