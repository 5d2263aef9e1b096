"""Test-wide setup: everything runs offline, with the models that ship inside PyPI packages."""

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
# Tests never talk to a real LLM or bucket unless a test configures its own local server.
for _name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "CHAPTAN_S3_BUCKET", "CHAPTAN_WHISPER_MODEL"):
    os.environ.pop(_name, None)
