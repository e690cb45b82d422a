# One image, two commands: the worker (`python worker.py`) and the API
# (`uvicorn labellisation.api.main:app`). Built from PyPI only, with exactly the versions of requirements/main.txt.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 LABELLISATION_LOG_FORMAT=json
WORKDIR /app
RUN useradd --create-home --uid 10001 labellisation
# The pinned dependencies (no dev group), each checked against its hash in requirements/main.txt: pip alone, no uv.
# This layer changes only with requirements/main.txt.
COPY requirements/main.txt ./requirements/main.txt
RUN pip install --no-cache-dir --require-hashes -r requirements/main.txt
COPY pyproject.toml README.md worker.py ./
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
