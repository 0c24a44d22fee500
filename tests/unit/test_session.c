/* placeholder: filled in by its owner */
#include "tests/unit/suites.h"

Suite *session_suite(void)
{
	return suite_create("session");
}
