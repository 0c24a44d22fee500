/* placeholder: filled in by its owner */
#include "tests/unit/suites.h"

Suite *cache_suite(void)
{
	return suite_create("cache");
}
