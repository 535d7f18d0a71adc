#!/usr/bin/env python
"""tests/runtests.py of bestpatch's SWE-bench stand-in Django image.

Django's repository runs its test suite with tests/runtests.py; Debian's
python3-django ships Django but not that suite. This script has the
interface the SWE-bench harness uses,

    ./tests/runtests.py --verbosity 2 --settings=test_sqlite --parallel 1 LABEL...

and runs Django's own test runner (django.test.runner.DiscoverRunner, what
`manage.py test` runs) on the apps under tests/. A label is an app
(utils_tests), a test module (utils_tests.test_text), a class or a method;
no label runs every app.
"""

import argparse
import os
import sys

RUNTESTS_DIR = os.path.abspath(os.path.dirname(__file__))


def apps():
    """The test apps: the packages directly under tests/."""
    return sorted(
        name for name in os.listdir(RUNTESTS_DIR)
        if os.path.isfile(os.path.join(RUNTESTS_DIR, name, "__init__.py"))
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", metavar="module", help="test labels (default: every app under tests/)")
    parser.add_argument("-v", "--verbosity", type=int, default=1, choices=[0, 1, 2, 3])
    parser.add_argument("--settings", help="settings module (default: $DJANGO_SETTINGS_MODULE or test_sqlite)")
    parser.add_argument("--parallel", type=int, default=1, help="test processes (default 1)")
    parser.add_argument("--noinput", dest="interactive", action="store_false")
    parser.add_argument("--failfast", action="store_true")
    parser.add_argument("-k", dest="test_name_patterns", action="append", help="only tests matching this pattern")
    args = parser.parse_args()

    os.environ["DJANGO_SETTINGS_MODULE"] = args.settings or os.environ.get("DJANGO_SETTINGS_MODULE", "test_sqlite")
    sys.path.insert(0, RUNTESTS_DIR)

    import django
    from django.conf import settings
    from django.test.utils import get_runner

    django.setup()
    if args.verbosity >= 1:
        print("Testing against Django installed in '%s' with up to %d processes" % (os.path.dirname(django.__file__), args.parallel))
    runner = get_runner(settings)(
        verbosity=args.verbosity, interactive=args.interactive, failfast=args.failfast,
        parallel=args.parallel, test_name_patterns=args.test_name_patterns,
    )
    failures = runner.run_tests(args.modules or apps())
    sys.exit(bool(failures))


if __name__ == "__main__":
    main()
