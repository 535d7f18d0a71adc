import logging
import sys
import unittest
import warnings

from django.test import SimpleTestCase


class AreaTests(SimpleTestCase):
    def test_pass(self):
        self.assertEqual(2 * 3, 6)

    def test_fail(self):
        self.assertEqual(2 * 3, 7)

    def test_error(self):
        raise RuntimeError("boom")

    @unittest.skip("not today")
    def test_skipped(self):
        pass

    @unittest.expectedFailure
    def test_expected_failure(self):
        self.assertEqual(1, 2)

    @unittest.expectedFailure
    def test_unexpected_success(self):
        self.assertEqual(1, 1)

    def test_docstring(self):
        """Area of a unit square is one."""
        self.assertEqual(1 * 1, 1)

    def test_docstring_fail(self):
        """Area of a unit square is two.

        More text that Django does not print.
        """
        self.assertEqual(1 * 1, 2)

    def test_prints(self):
        sys.stderr.write("a line the test writes on stderr\n")
        print("and one on stdout")
        self.assertTrue(True)

    def test_warns(self):
        warnings.warn("deprecated area", DeprecationWarning)
        logging.getLogger("shapes").error("an error logged mid-test")
        self.assertTrue(True)

    def test_subtests(self):
        for i in range(3):
            with self.subTest(i=i):
                self.assertLess(i, 2)


class PerimeterTests(SimpleTestCase):
    def test_square(self):
        self.assertEqual(4 * 1, 4)
