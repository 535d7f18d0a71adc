SECRET_KEY = "bestpatch-fixture"
INSTALLED_APPS = ["shapes"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
USE_TZ = True
