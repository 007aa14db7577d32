# fugai: one image for the staff server and the nightly inbox ingest.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY graph ./graph
COPY ingest ./ingest
COPY api ./api
COPY viz ./viz
RUN pip install . && useradd --create-home --uid 10001 fugai \
    && mkdir -p /data /inbox && chown fugai /data /inbox
USER fugai
ENV FUGAI_DATA_DIR=/data
EXPOSE 8000
CMD ["fugai", "serve", "--host", "0.0.0.0", "--port", "8000"]
