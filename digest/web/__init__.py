"""The editor's desk: a local web app to preview, check, edit and test-send issues."""
