# One image for every Python service: the gateway (`fedgate serve`) and the three subgraphs
# (`python -m subgraphs.<name>`); docker-compose.yml picks the command.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first, so editing code does not reinstall them.
COPY pyproject.toml ./
COPY gateway/__init__.py gateway/__init__.py
COPY subgraphs/__init__.py subgraphs/__init__.py
RUN pip install . && pip uninstall -y fedgate

COPY gateway gateway
COPY subgraphs subgraphs
COPY schema schema
COPY deploy deploy
RUN pip install --no-deps . \
    && useradd --system --home /app fedgate \
    && mkdir -p /data && chown fedgate /data

USER fedgate
EXPOSE 4000 4001 4002 4003
CMD ["fedgate", "--help"]
