#include "config.h"

#include "common/result.h"

static const char *const result_names[] = {
#define DZ_RESULT_NAME(code, name, message) [code] = name,
	DZ_RESULT_TABLE(DZ_RESULT_NAME)
#undef DZ_RESULT_NAME
};

static const char *const result_texts[] = {
#define DZ_RESULT_TEXT(code, name, message) [code] = message,
	DZ_RESULT_TABLE(DZ_RESULT_TEXT)
#undef DZ_RESULT_TEXT
};

const char *
dz_result_name(dz_result_t result)
{
	if ((unsigned)result >= DZ_RESULT_COUNT)
		return "unknown";
	return result_names[result];
}

const char *
dz_result_text(dz_result_t result)
{
	if ((unsigned)result >= DZ_RESULT_COUNT)
		return "unknown result";
	return result_texts[result];
}
