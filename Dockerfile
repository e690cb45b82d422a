# One image, two commands: the worker (`python worker.py`) and the API
# (`uvicorn labellisation.api.main:app`). Built from PyPI only, with exactly the versions of uv.lock.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 LABELLISATION_LOG_FORMAT=json
WORKDIR /app
RUN useradd --create-home --uid 10001 labellisation
# The locked dependencies (no dev group), each checked against its hash in uv.lock; the same uv as the Makefile's
# UV_VERSION. This layer changes only with pyproject.toml or uv.lock.
COPY pyproject.toml uv.lock ./
RUN pip install --no-cache-dir uv==0.13.9 \
    && uv export --locked --no-dev --no-emit-project --format requirements.txt --quiet -o /tmp/requirements.txt \
    && pip install --no-cache-dir --require-hashes -r /tmp/requirements.txt \
    && pip uninstall --yes --quiet uv && rm /tmp/requirements.txt
COPY README.md worker.py ./
COPY workflows ./workflows
COPY activities ./activities
COPY labellisation ./labellisation
# The project itself, its dependencies being installed already.
RUN pip install --no-cache-dir --no-deps . && mkdir -p /data && chown labellisation /data
# Bytecode for /app itself (PYTHONDONTWRITEBYTECODE keeps the worker from writing it): without it the
# workflow sandbox compiles workflows/ from source for every project it loads.
RUN python -m compileall -q workflows activities labellisation worker.py
USER labellisation
ENV LABELLISATION_DATA_DIR=/data
# Worker metrics (Prometheus) on 9464; the API listens on 8000.
EXPOSE 8000 9464
STOPSIGNAL SIGTERM
CMD ["python", "worker.py"]
