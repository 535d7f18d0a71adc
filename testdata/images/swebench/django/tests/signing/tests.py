from django.core import signing
from django.test import SimpleTestCase


class TestSigner(SimpleTestCase):
    def test_sign_unsign(self):
        signer = signing.Signer("predictable-secret")
        self.assertEqual(signer.unsign(signer.sign("hello")), "hello")

    def test_tampered(self):
        signer = signing.Signer("predictable-secret")
        with self.assertRaises(signing.BadSignature):
            signer.unsign(signer.sign("hello") + "x")
