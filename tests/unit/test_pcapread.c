/* placeholder: filled in by its owner */
#include "tests/unit/suites.h"

Suite *pcapread_suite(void)
{
	return suite_create("pcapread");
}
