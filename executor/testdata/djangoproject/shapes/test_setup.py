from django.test import SimpleTestCase


class BrokenSetup(SimpleTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        raise ValueError("class setup failed")

    def test_never_runs(self):
        pass
