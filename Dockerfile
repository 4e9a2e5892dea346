FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md config.yaml ./
COPY bots ./bots
COPY connectors ./connectors
COPY nlu ./nlu
RUN pip install --no-cache-dir . && brandbot nlu train
EXPOSE 8000
CMD ["brandbot", "serve", "--host", "0.0.0.0"]
