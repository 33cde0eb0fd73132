# The Rasa servers (docker-compose.yml): Rasa 3.6 on Python 3.10 with our NLU components, the model trained at
# build time with the settings of scripts/rasa.env, as scripts/start trains it.
FROM python:3.10-slim-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements-rasa.txt .
RUN pip install --no-cache-dir -r requirements-rasa.txt
COPY . .
ENV RASA_TELEMETRY_ENABLED=false
RUN env $(grep -v '^#' scripts/rasa.env | xargs) rasa train --quiet --data nlu_data --config config.yml \
        --domain domain.yml --out models --fixed-model-name trolyhue
ENTRYPOINT ["sh", "-c", "exec env $(grep -v '^#' scripts/rasa.env | xargs) rasa \"$@\"", "rasa"]
