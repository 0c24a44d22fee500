/* placeholder: filled in by its owner */
#include "tests/unit/suites.h"

Suite *crypto_suite(void)
{
	return suite_create("crypto");
}
