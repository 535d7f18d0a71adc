"""A Django app for bestpatch's parser tests."""
