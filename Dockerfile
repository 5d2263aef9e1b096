# Chaptan for GPU (or CPU-only) machines:
#   docker build -t chaptan .
#   docker run --gpus all --stop-timeout 40 -p 7860:7860 -v chaptan-data:/data \
#     -v "$PWD/models":/app/models -e CHAPTAN_ADMIN_PASSWORD=... chaptan
#
# The base is CUDA 12, not 13, on purpose. faster-whisper runs on CTranslate2 4.x, whose PyPI wheels
# dlopen libcublas.so.12 at run time; the pinned torch==2.13.0 wheel from PyPI is built for CUDA 13
# (it pulls cuda-toolkit 13 and nvidia-cudnn-cu13), so its libraries cannot stand in. This image's
# cuBLAS 12 and cuDNN 9 sit on the loader's default path, where CTranslate2 finds them. Chaptan
# computes sentence embeddings on the CPU, so torch's own CUDA is never needed. Without a GPU
# (plain `docker run`, no --gpus) CTranslate2 sees no device and CHAPTAN_DEVICE=auto picks the CPU.
FROM nvidia/cuda:12.8.1-cudnn-runtime-ubuntu22.04

# ffmpeg: imageio-ffmpeg's wheel brings only the ffmpeg binary; the system package adds ffprobe,
# which Gradio uses to check audio files it is handed before playing them back.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        python3.11 python3.11-venv ffmpeg ca-certificates \
    && rm -rf /var/lib/apt/lists/*

# A virtual environment keeps pip away from Ubuntu's own Python packages.
ENV VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONUNBUFFERED=1
RUN python3.11 -m venv /opt/venv

WORKDIR /app
# Requirements first, so editing the code does not re-download several GB of wheels.
COPY requirements.txt .
RUN pip install --upgrade pip && pip install -r requirements.txt

RUN useradd --create-home --uid 1000 chaptan
COPY --chown=chaptan:chaptan . .
# Created and owned before VOLUME, so a fresh named volume starts out writable by the app's user.
RUN mkdir -p /data /app/models/whisper /app/models/voices && chown -R chaptan:chaptan /data /app/models

USER chaptan
# The Hugging Face cache (CHAPTAN_WHISPER_MODEL=large-v3 downloads) and the Japanese voice's
# assembled weights go under the user's home.
ENV HOME=/home/chaptan \
    CHAPTAN_DATA_DIR=/data \
    CHAPTAN_MODELS_DIR=/app/models \
    GRADIO_SERVER_NAME=0.0.0.0 \
    GRADIO_SERVER_PORT=7860
VOLUME ["/data", "/app/models"]
EXPOSE 7860

# With sign-in on, /config answers 401 to anonymous callers: that still proves the server is up.
HEALTHCHECK --interval=30s --timeout=10s --start-period=90s --retries=3 \
    CMD ["python", "-c", "import http.client, os; c = http.client.HTTPConnection('127.0.0.1', int(os.environ.get('GRADIO_SERVER_PORT', '7860')), timeout=8); c.request('GET', '/config'); raise SystemExit(c.getresponse().status not in (200, 401))"]

# On SIGTERM the app puts the running job back in the queue and flushes the S3 mirror (up to ~25 s),
# so give it more than Docker's default 10 s: `docker run --stop-timeout 40`, or in compose
# `stop_grace_period: 40s`. The exec form of CMD makes Python PID 1, so the signal reaches it.
STOPSIGNAL SIGTERM
CMD ["python", "app.py"]
