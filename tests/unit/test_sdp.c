/* placeholder: filled in by its owner */
#include "tests/unit/suites.h"

Suite *sdp_suite(void)
{
	return suite_create("sdp");
}
