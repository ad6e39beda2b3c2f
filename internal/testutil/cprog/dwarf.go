package cprog

// DwarfArgs is the program for DWARF argument tests: functions whose
// parameters have each kind of C type the DWARF reader decodes, called
// with fixed values. It speaks testutil.UserProc's protocol ("ready",
// then one "ok" line per command):
//
//	call   calls, once each:
//	         kt_ints(-7, 1234567890123, 65000, 42, 'x', BLUE)
//	         kt_str("hello", "world")
//	         kt_shape(&shape, 3), shape as in main
//	         kt_point(pt), kt_float(2.5, 4), kt_many(1, ..., 7)
//	         kt_union(&u) with u.i = 77
//
// The line of kt_shape marked "LINE PROBE" assigns sh->area.
var DwarfArgs = Program{Name: "dwarfargs", Sources: map[string]string{"dwarfargs.c": dwarfArgsSource}, Flags: []string{"-O0", "-g"}}

// DwarfArgsNoDebug is DwarfArgs without debug information.
var DwarfArgsNoDebug = Program{Name: "dwarfargs", Sources: DwarfArgs.Sources, Flags: []string{"-O0"}}

// DwarfArgsSplit is DwarfArgs with split DWARF: the binary has DWARF 5
// skeleton units (the line table), the types and functions are in
// dwarfargs-dwarfargs.dwo next to it (see Program.DWOFiles).
var DwarfArgsSplit = Program{Name: "dwarfargs", Sources: DwarfArgs.Sources, Flags: []string{"-O0", "-g", "-gsplit-dwarf"}}

// DwarfArgsSplit4 is DwarfArgsSplit in DWARF 4, with the GNU extension
// that preceded DWARF 5's split units.
var DwarfArgsSplit4 = Program{Name: "dwarfargs", Sources: DwarfArgs.Sources, Flags: []string{"-O0", "-g", "-gdwarf-4", "-gsplit-dwarf"}}

const dwarfArgsSource = `#include <stdio.h>
#include <string.h>

enum color { RED, GREEN = 5, BLUE };
typedef unsigned int counter_t;

struct point {
	int x;
	int y;
};

union number {
	int i;
	unsigned char bytes[4];
};

struct shape {
	char name[16];
	struct point origin;
	struct point *next;
	long area;
	enum color color;
	unsigned int flags : 3;
	unsigned int kind : 5;
	union number num;
	short pts[4];
};

__attribute__((noinline)) int kt_ints(int a, long b, unsigned short c, counter_t d, char e, enum color col)
{
	return a + (int)b + c + (int)d + e + (int)col;
}

__attribute__((noinline)) size_t kt_str(const char *s, char *const t)
{
	return strlen(s) + strlen(t);
}

__attribute__((noinline)) long kt_shape(struct shape *sh, int scale)
{
	long a = (long)sh->origin.x * sh->origin.y;
	sh->area = a * scale; /* LINE PROBE */
	return sh->area;
}

__attribute__((noinline)) int kt_point(struct point p)
{
	return p.x + p.y;
}

__attribute__((noinline)) double kt_float(double x, int n)
{
	return x * n;
}

__attribute__((noinline)) int kt_many(int a, int b, int c, int d, int e, int f, int g)
{
	return a + b + c + d + e + f + g;
}

__attribute__((noinline)) int kt_union(union number *u)
{
	return u->i;
}

int main(void)
{
	char line[64];
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready\n");
	while (fgets(line, sizeof line, stdin)) {
		if (strncmp(line, "call", 4) != 0)
			continue;
		struct point next = { 11, 22 };
		struct shape sh = { .name = "square", .origin = { 3, 4 }, .next = &next, .area = 0,
			.color = GREEN, .flags = 5, .kind = 17, .num = { .i = 0x01020304 }, .pts = { -1, 2, -3, 4 } };
		char world[] = "world";
		struct point pt = { 5, 6 };
		union number u = { .i = 77 };
		long r = kt_ints(-7, 1234567890123L, 65000, 42, 'x', BLUE);
		r += (long)kt_str("hello", world);
		r += kt_shape(&sh, 3);
		r += kt_point(pt);
		r += (long)kt_float(2.5, 4);
		r += kt_many(1, 2, 3, 4, 5, 6, 7);
		r += kt_union(&u);
		printf("ok %ld\n", r);
	}
	return 0;
}
`
