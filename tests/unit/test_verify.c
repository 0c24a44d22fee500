/* placeholder: filled in by its owner */
#include "tests/unit/suites.h"

Suite *verify_suite(void)
{
	return suite_create("verify");
}
