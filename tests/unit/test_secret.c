/*
 * The CLI's secret options: the parser every source goes through, and
 * the sources themselves (a file, stdin, a variable, the argument).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../admin/admin.h"
#include "t.h"

static int
parse_is(const char *in, size_t n, const char *want)
{
	char out[SECRET_MAX + 1], why[128];
	size_t len;

	if (secret_parse(in, n, out, &len, why, sizeof(why)) == -1) {
		printf("# refused: %s\n", why);
		return 0;
	}
	return len == strlen(want) && strcmp(out, want) == 0;
}

static int
refused_for(const char *in, size_t n, const char *reason)
{
	char out[SECRET_MAX + 1], why[128];
	size_t len;

	return secret_parse(in, n, out, &len, why, sizeof(why)) == -1 &&
	    strstr(why, reason) != NULL;
}

static void
write_file(const char *path, const char *data, size_t n)
{
	FILE *f = fopen(path, "w");

	fwrite(data, 1, n, f);
	fclose(f);
}

int
main(void)
{
	static struct ctx ctx;
	char big[SECRET_MAX + 2], dir[] = "/tmp/hpsecXXXXXX", path[64],
	    path2[64];
	struct secret_opt so;
	int fd;

	/* One trailing newline goes; the rest must be one printable line. */
	CHECK(parse_is("whsec_abc\n", 10, "whsec_abc"));
	CHECK(parse_is("whsec_abc\r\n", 11, "whsec_abc"));
	CHECK(parse_is("It's a Secret to Everybody", 26,
	    "It's a Secret to Everybody"));
	CHECK(parse_is("clé", 4, "clé"));
	CHECK(refused_for("", 0, "empty"));
	CHECK(refused_for("\n", 1, "empty"));
	CHECK(refused_for("\r\n", 2, "empty"));
	CHECK(refused_for("abc\n\n", 5, "more than one line"));
	CHECK(refused_for("one\ntwo", 7, "more than one line"));
	CHECK(refused_for("a\0b", 3, "NUL byte (at byte 1)"));
	CHECK(refused_for("a\x1b[2Jb", 6, "0x1b at byte 1"));
	CHECK(refused_for("tab\there", 8, "0x09"));
	CHECK(refused_for("abc\r", 4, "0x0d"));
	CHECK(refused_for("del\x7f", 4, "0x7f"));
	CHECK(refused_for("csi\xc2\x9b", 5, "U+009B at byte 3"));
	memset(big, 'k', sizeof(big));
	{
		char out[SECRET_MAX + 1], why[128];
		size_t len;

		CHECK(secret_parse(big, SECRET_MAX, out, &len, why,
		    sizeof(why)) == 0 && len == SECRET_MAX &&
		    out[SECRET_MAX] == '\0');
		big[SECRET_MAX] = '\n';
		CHECK(secret_parse(big, SECRET_MAX + 1, out, &len, why,
		    sizeof(why)) == 0 && len == SECRET_MAX);
		big[SECRET_MAX] = 'k';
	}
	CHECK(refused_for(big, SECRET_MAX + 1, "longer than"));

	/* The sources. */
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/secret", dir);
	snprintf(path2, sizeof(path2), "%s/stdin", dir);
	write_file(path, "from-a-file\n", 12);
	so = (struct secret_opt){ .name = "secret", .file = path };
	CHECK(secret_read(&ctx, &so) == 0 && so.set &&
	    strcmp(so.value, "from-a-file") == 0 && so.len == 11);
	secret_clear(&so);
	CHECK(!so.set && so.value[0] == '\0');

	setenv("HP_TEST_SECRET", "from-the-environment", 1);
	so = (struct secret_opt){ .name = "secret", .env = "HP_TEST_SECRET" };
	CHECK(secret_read(&ctx, &so) == 0 && so.set &&
	    strcmp(so.value, "from-the-environment") == 0);
	so = (struct secret_opt){ .name = "secret", .env = "HP_NO_SUCH_VAR" };
	CHECK(secret_read(&ctx, &so) == EXIT_USAGE && !so.set);
	setenv("HP_TEST_SECRET", "", 1);
	so = (struct secret_opt){ .name = "secret", .env = "HP_TEST_SECRET" };
	CHECK(secret_read(&ctx, &so) == EXIT_USAGE);

	so = (struct secret_opt){ .name = "secret", .arg = "on-the-line" };
	CHECK(secret_read(&ctx, &so) == 0 &&
	    strcmp(so.value, "on-the-line") == 0);
	so = (struct secret_opt){ .name = "secret" };
	CHECK(secret_read(&ctx, &so) == 0 && !so.set);
	so = (struct secret_opt){ .name = "secret", .arg = "x", .file = path };
	CHECK(secret_read(&ctx, &so) == EXIT_USAGE);

	write_file(path, "", 0);
	so = (struct secret_opt){ .name = "secret", .file = path };
	CHECK(secret_read(&ctx, &so) == EXIT_USAGE);
	write_file(path, "a\0b\n", 4);
	CHECK(secret_read(&ctx, &so) == EXIT_USAGE);
	write_file(path, big, SECRET_MAX + 1);
	CHECK(secret_read(&ctx, &so) == EXIT_USAGE);
	so.file = "/nonexistent/secret";
	CHECK(secret_read(&ctx, &so) == EXIT_USAGE);

	/* stdin, once per command. */
	write_file(path2, "from-stdin\n", 11);
	CHECK((fd = open(path2, O_RDONLY)) != -1);
	dup2(fd, 0);
	close(fd);
	so = (struct secret_opt){ .name = "secret", .arg = "-" };
	CHECK(secret_read(&ctx, &so) == 0 &&
	    strcmp(so.value, "from-stdin") == 0);
	so = (struct secret_opt){ .name = "secondary-secret", .arg = "-" };
	CHECK(secret_read(&ctx, &so) == EXIT_USAGE);

	unlink(path);
	unlink(path2);
	rmdir(dir);
	return t_done("test_secret");
}
