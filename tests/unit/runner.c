/*
 * The unit test runner: every suite in one SRunner, in Check's fork mode so
 * a crash in one test is reported as that test's failure. Run a single
 * suite or test with Check's own CK_RUN_SUITE / CK_RUN_CASE variables.
 */
#include <stdlib.h>

#include "tests/unit/suites.h"

int main(void)
{
	SRunner *sr = srunner_create(packet_suite());
	srunner_add_suite(sr, crypto_suite());
	srunner_add_suite(sr, cache_suite());
	srunner_add_suite(sr, strmap_suite());
	srunner_add_suite(sr, session_suite());
	srunner_add_suite(sr, sip_suite());
	srunner_add_suite(sr, sdp_suite());
	srunner_add_suite(sr, pcapread_suite());
	srunner_add_suite(sr, verify_suite());
	srunner_add_suite(sr, demux_suite());
	srunner_add_suite(sr, conffile_suite());
	srunner_add_suite(sr, clips_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
