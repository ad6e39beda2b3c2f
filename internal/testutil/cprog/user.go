package cprog

// userSources are User's files; testutil.UserProg documents its commands.
var userSources = map[string]string{
	"main.c": `#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/sdt.h>

long ktest_global = -1234567890123L;
short ktest_shorts[4] = {7, -8, 9, -10};

long ktest_guarded(long n);
unsigned ktest_sem(void);

__attribute__((noinline, noclone)) long ktest_add(long a, int b, const char *s)
{
	long n = (long)strlen(s);
	__asm__ volatile("" ::: "memory");
	return a * 3 + b + n;
}

__attribute__((noinline, noclone, optimize("O0"))) void ktest_frame(int v)
{
	DTRACE_PROBE1(ktest, frame, v);
}

/* Never called: a second provider's probe of the same name makes
   usdt:PATH:frame ambiguous. */
__attribute__((noinline, used)) void ktest_unused(void)
{
	DTRACE_PROBE(other, frame);
}

__attribute__((noinline)) void *ktest_thread(void *arg)
{
	__asm__ volatile("" ::: "memory");
	return arg;
}

int main(void)
{
	char line[128], cmd[32];
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready\n");
	while (fgets(line, sizeof line, stdin)) {
		long n = 0;
		if (sscanf(line, "%31s %ld", cmd, &n) < 1)
			continue;
		if (!strcmp(cmd, "add")) {
			long sum = 0;
			for (long i = 0; i < n; i++)
				sum += ktest_add(1000 + i, -5 - (int)i, "hello");
			printf("ok %ld\n", sum);
		} else if (!strcmp(cmd, "usdt")) {
			for (long i = 0; i < n; i++) {
				int neg = -42 - (int)i;
				DTRACE_PROBE3(ktest, regs, i, neg, (unsigned char)200);
				DTRACE_PROBE3(ktest, mem, ktest_global, ktest_shorts[i & 3], -7);
				ktest_frame(100 + (int)i);
			}
			printf("ok\n");
		} else if (!strcmp(cmd, "guarded")) {
			printf("ok %ld\n", ktest_guarded(n));
		} else if (!strcmp(cmd, "sem")) {
			printf("ok %u\n", ktest_sem());
		} else if (!strcmp(cmd, "getpid")) {
			for (long i = 0; i < n; i++)
				getpid();
			printf("ok\n");
		} else if (!strcmp(cmd, "threads")) {
			long made = 0;
			for (long i = 0; i < n; i++) {
				pthread_t t;
				if (pthread_create(&t, NULL, ktest_thread, NULL) == 0 && pthread_join(t, NULL) == 0)
					made++;
			}
			printf("ok %ld\n", made);
		} else {
			printf("unknown command %s\n", cmd);
		}
	}
	return 0;
}
`,
	// Semaphores are per translation unit: with _SDT_HAS_SEMAPHORES every
	// probe in the file has one.
	"guarded.c": `#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>

unsigned short ktest_guarded_semaphore __attribute__((unused)) __attribute__((section(".probes")));

unsigned ktest_sem(void) { return *(volatile unsigned short *)&ktest_guarded_semaphore; }

long ktest_guarded(long n)
{
	long fired = 0;
	for (long i = 0; i < n; i++) {
		if (*(volatile unsigned short *)&ktest_guarded_semaphore) {
			DTRACE_PROBE1(ktest, guarded, i);
			fired++;
		}
	}
	return fired;
}
`,
}
