/* placeholder: the zrtpshim command; filled in by its owner */
#include <stdio.h>

int main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "zrtpshim: not implemented yet\n");
	return 2;
}
