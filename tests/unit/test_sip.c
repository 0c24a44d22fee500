/* placeholder: filled in by its owner */
#include "tests/unit/suites.h"

Suite *sip_suite(void)
{
	return suite_create("sip");
}
