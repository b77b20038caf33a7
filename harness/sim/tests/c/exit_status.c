/* Exits with status 3 after printing to stdout and stderr: the status must
 * become tinybench's exit code. */
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    printf("to stdout\n");
    fprintf(stderr, "to stderr\n");
    exit(3);
}
