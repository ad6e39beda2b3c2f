/* A program for the DWARF cases of conformance/cases/dwarf.txt: kt_point
 * is called three times with known arguments. It prints nothing, so that
 * only ktrace's output is checked. */

struct kt_pair {
	int left;
	long right;
};

__attribute__((noinline)) long kt_point(int x, long y, const char *name, struct kt_pair *pair)
{
	long sum = x + y + pair->left + pair->right; /* kt_point body */
	return sum + (name[0] != 0);
}

int main(void)
{
	struct kt_pair p = {7, 8};
	long total = 0;
	for (int i = 1; i <= 3; i++) {
		p.left = i * 10;
		total += kt_point(i, 100 * i, "pt", &p);
	}
	return total == 693 ? 0 : 1;
}
