/* unit.h — the assertions the C unit tests use; each failure prints file:line and the test exits 1.
 * (CTest is the runner; these few macros are all a test program needs from a framework.) */
#ifndef WEIR_UNIT_H
#define WEIR_UNIT_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int unit_failures;
static int unit_checks;

#define CHECK(cond)                                                                         \
	do {                                                                                \
		unit_checks++;                                                              \
		if (!(cond)) {                                                              \
			unit_failures++;                                                    \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
		}                                                                           \
	} while (0)

#define CHECK_EQ(a, b)                                                                      \
	do {                                                                                \
		long long unit_a_ = (long long)(a), unit_b_ = (long long)(b);               \
		unit_checks++;                                                              \
		if (unit_a_ != unit_b_) {                                                   \
			unit_failures++;                                                    \
			fprintf(stderr, "%s:%d: CHECK_EQ failed: %s == %s (%lld != %lld)\n", \
			        __FILE__, __LINE__, #a, #b, unit_a_, unit_b_);              \
		}                                                                           \
	} while (0)

#define CHECK_MEM(a, b, n)                                                                  \
	do {                                                                                \
		unit_checks++;                                                              \
		if (memcmp((a), (b), (n)) != 0) {                                           \
			unit_failures++;                                                    \
			fprintf(stderr, "%s:%d: CHECK_MEM failed: %s vs %s\n", __FILE__, __LINE__, #a, #b); \
		}                                                                           \
	} while (0)

#define CHECK_STR(a, b)                                                                     \
	do {                                                                                \
		const char *unit_sa_ = (a), *unit_sb_ = (b);                                \
		unit_checks++;                                                              \
		if (!unit_sa_ || !unit_sb_ || strcmp(unit_sa_, unit_sb_) != 0) {            \
			unit_failures++;                                                    \
			fprintf(stderr, "%s:%d: CHECK_STR failed: \"%s\" != \"%s\"\n", __FILE__, \
			        __LINE__, unit_sa_ ? unit_sa_ : "(null)", unit_sb_ ? unit_sb_ : "(null)"); \
		}                                                                           \
	} while (0)

/** Ends main(): prints the tally; exit status 1 when any check failed or none ran. */
#define UNIT_DONE()                                                                         \
	(fprintf(stderr, "%d checks, %d failed\n", unit_checks, unit_failures),              \
	 (unit_failures || !unit_checks) ? 1 : 0)

#endif
