/*
 * replay.c -- run a fuzz target over its seed corpus without libFuzzer.
 *
 * `make check` runs each target built with this driver.  The corpus folder
 * is $DZ_SRCDIR/tests/fuzz/NAME for a program named fuzz_NAME, or the
 * folders and files given as arguments.  Output is TAP, one line per file.
 */
#include "config.h"

#include <dirent.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define INPUT_MAX (1 << 20)

static int
compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Append the files of `path` (a file or a folder) to `files`. */
static void
collect(const char *path, char ***files, size_t *count)
{
	struct stat st;

	if (stat(path, &st) != 0) {
		fprintf(stderr, "replay: cannot read %s\n", path);
		exit(1);
	}
	if (!S_ISDIR(st.st_mode)) {
		*files = realloc(*files, (*count + 1) * sizeof(**files));
		(*files)[(*count)++] = strdup(path);
		return;
	}
	DIR *dir = opendir(path);
	struct dirent *entry;
	while (dir != NULL && (entry = readdir(dir)) != NULL) {
		if (entry->d_name[0] == '.')
			continue;
		char child[4096];
		snprintf(child, sizeof(child), "%s/%s", path, entry->d_name);
		collect(child, files, count);
	}
	if (dir != NULL)
		closedir(dir);
}

int
main(int argc, char **argv)
{
	char **files = NULL;
	size_t count = 0;

	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			collect(argv[i], &files, &count);
	} else {
		const char *srcdir = getenv("DZ_SRCDIR");
		char *program = strdup(argv[0]);
		const char *name = basename(program);
		char corpus[4096];
		if (strncmp(name, "fuzz_", 5) == 0)
			name += 5;
		snprintf(corpus, sizeof(corpus), "%s/tests/fuzz/%s", srcdir != NULL ? srcdir : ".",
			 name);
		collect(corpus, &files, &count);
		free(program);
	}
	qsort(files, count, sizeof(*files), compare_names);

	printf("1..%zu\n", count);
	for (size_t i = 0; i < count; i++) {
		char *data = NULL;
		size_t len = 0;
		if (dz_file_read_all(files[i], INPUT_MAX, &data, &len, NULL) != DZ_OK) {
			printf("not ok %zu - %s: cannot read\n", i + 1, files[i]);
			continue;
		}
		/* A crash or sanitizer report ends the program, so reaching here is a pass. */
		LLVMFuzzerTestOneInput((const uint8_t *)data, len);
		printf("ok %zu - %s\n", i + 1, files[i]);
		fflush(stdout);
		free(data);
		free(files[i]);
	}
	free(files);
	return 0;
}
