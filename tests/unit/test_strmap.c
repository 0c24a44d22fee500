/*
 * The strmap suite (common/strmap.h): the map the shim finds calls and
 * status entries with. Inserts, lookups, replacement and deletions in a
 * pseudo-random order against a plain array, through the table's growth
 * and the backward shifts of deletion.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tests/unit/suites.h"
#include "common/strmap.h"

#define N 5000

static char keys[N][24];
static size_t lens[N];
static int present[N];

START_TEST(test_strmap_against_array)
{
	struct strmap m = STRMAP_INIT;
	uint64_t x = 88172645463325252ull;
	size_t live = 0;
	for (int i = 0; i < N; i++) {
		lens[i] = (size_t)snprintf(keys[i], sizeof keys[i], "lc%x-%d",
					   (unsigned)(i * 2654435761u), i);
		present[i] = 0;
	}
	ck_assert_ptr_null(strmap_get(&m, keys[0], lens[0]));
	ck_assert_ptr_null(strmap_del(&m, keys[0], lens[0]));
	for (int round = 0; round < 8 * N; round++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		int i = (int)(x % N);
		if (present[i] && (x >> 32) % 3 == 0) {
			ck_assert_ptr_eq(strmap_del(&m, keys[i], lens[i]),
					 &present[i]);
			present[i] = 0;
			live--;
		} else {
			ck_assert_int_eq(strmap_put(&m, keys[i], lens[i],
						    &present[i]), 0);
			if (!present[i])
				live++;
			present[i] = 1;
		}
		ck_assert_uint_eq(m.n, live);
	}
	for (int i = 0; i < N; i++) {
		void *v = strmap_get(&m, keys[i], lens[i]);
		if (present[i])
			ck_assert_ptr_eq(v, &present[i]);
		else
			ck_assert_ptr_null(v);
		/* a prefix is another key */
		ck_assert_ptr_null(strmap_get(&m, keys[i], lens[i] - 1));
	}
	ck_assert_uint_le(m.n * 2, m.cap);
	strmap_clear(&m);
	ck_assert_ptr_null(strmap_get(&m, keys[1], lens[1]));
	ck_assert_int_eq(strmap_put(&m, keys[1], lens[1], &present[1]), 0);
	ck_assert_ptr_eq(strmap_get(&m, keys[1], lens[1]), &present[1]);
	strmap_clear(&m);
}
END_TEST

Suite *strmap_suite(void)
{
	Suite *s = suite_create("strmap");
	TCase *tc = tcase_create("strmap");
	tcase_add_test(tc, test_strmap_against_array);
	suite_add_tcase(s, tc);
	return s;
}
