/*
 * getpid(2), answered from memory.
 *
 * libzmq asks for the process id each time a socket and its I/O thread
 * signal each other (to notice that it runs in a forked child), LMDB
 * and OpenSSL ask for it too; since glibc 2.25 stopped caching it, each
 * ask is a system call, about three per event across the stages, on a
 * machine where a system call is dear. A program that defines getpid
 * itself comes first in the dynamic linker's lookup, so those libraries'
 * calls come here. Only a fork gives a process a new id, and fork runs
 * the atfork handler in the child before it returns there. (A vfork or
 * posix_spawn child runs nothing of ours before its exec.)
 */
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

static pid_t	 pid_now;

static pid_t
pid_ask(void)
{
	pid_t p = (pid_t)syscall(SYS_getpid);

	__atomic_store_n(&pid_now, p, __ATOMIC_RELAXED);
	return p;
}

static void
pid_forked(void)
{
	pid_ask();
}

__attribute__((constructor)) static void
pid_init(void)
{
	pid_ask();
	pthread_atfork(NULL, NULL, pid_forked);
}

pid_t
getpid(void)
{
	pid_t p = __atomic_load_n(&pid_now, __ATOMIC_RELAXED);

	/* Asked by another library's constructor, before ours ran. */
	return p != 0 ? p : pid_ask();
}
