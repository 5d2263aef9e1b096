"""Test-wide setup: everything runs offline, with the models that ship inside PyPI packages."""

import atexit
import os
import shutil
import tempfile

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
# Tests never talk to a real LLM or bucket unless a test configures its own local server.
for _name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "CHAPTAN_S3_BUCKET", "CHAPTAN_WHISPER_MODEL"):
    os.environ.pop(_name, None)
# Gradio keeps uploads in one cache folder per machine, by the hash of their bytes; the test media
# are the same every run, so two runs at once would take each other's uploads. Each run gets its own.
os.environ["GRADIO_TEMP_DIR"] = tempfile.mkdtemp(prefix="chaptan-tests-gradio-")
atexit.register(shutil.rmtree, os.environ["GRADIO_TEMP_DIR"], ignore_errors=True)
