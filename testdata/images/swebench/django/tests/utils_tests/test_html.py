from django.test import SimpleTestCase
from django.utils.html import escape, strip_tags


class TestUtilsHtml(SimpleTestCase):
    def test_escape(self):
        self.assertEqual(escape("<a href=\"x\">&'</a>"), "&lt;a href=&quot;x&quot;&gt;&amp;&#x27;&lt;/a&gt;")

    def test_strip_tags(self):
        self.assertEqual(strip_tags("<p>Hello <b>world</b></p>"), "Hello world")
