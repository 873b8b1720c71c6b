/*
 * A minimal unit test harness: CHECK records a result and goes on; each
 * test binary ends with "N passed, N failed" and a non-zero exit on any
 * failure.
 */
#ifndef HP_T_H
#define HP_T_H

#include <stdio.h>
#include <stdlib.h>

static int t_pass, t_fail;

#define CHECK(cond) do {						\
	if (cond)							\
		t_pass++;						\
	else {								\
		t_fail++;						\
		printf("not ok - %s:%d: %s\n", __FILE__, __LINE__, #cond);	\
	}								\
} while (0)

#define CHECK_MSG(cond, ...) do {					\
	if (cond)							\
		t_pass++;						\
	else {								\
		t_fail++;						\
		printf("not ok - %s:%d: ", __FILE__, __LINE__);		\
		printf(__VA_ARGS__);					\
		printf("\n");						\
	}								\
} while (0)

static inline int
t_done(const char *name)
{
	printf("%s: %d passed, %d failed\n", name, t_pass, t_fail);
	return t_fail == 0 ? 0 : 1;
}

#endif
