/* Real-program check for zpoline-go (tests/programs_test.go): gcc (driver, cc1, as,
 * collect2, ld: a chain of exec'd and vfork'd programs) compiles this under the loader,
 * then the result runs under the loader too. Deterministic output. */
#include <stdio.h>
#include <string.h>

int main(void)
{
	unsigned long h = 5381;
	const char *s = "zpoline";
	for (int i = 0; i < 1000; i++)
		for (size_t j = 0; j < strlen(s); j++)
			h = h * 33 + (unsigned char)s[j] + (unsigned long)i;
	printf("hello from gcc-built code\n");
	printf("hash %lx\n", h);
	return 0;
}
