# cityapi, the action servers and the gateways (docker-compose.yml): the application environment of
# requirements.txt on a current Python, with espeak-ng's Vietnamese voices.
FROM python:3.11-slim-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends espeak-ng curl && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
ENV PYTHONUNBUFFERED=1 TROLYHUE_VAR=/app/var RASA_TELEMETRY_ENABLED=false
# The fixed answers spoken once into the speech cache, as scripts/start does.
RUN python -m voice.prebuild
