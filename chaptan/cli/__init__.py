"""The commands of `python -m chaptan` (chaptan/__main__.py is the front-end over them), one module
per group: `pipeline` (transcribe, chapter, embed), `users`, `s3`, `models` and `worker`. Each only
parses and prints; the work is done by the same services the web app calls."""
