FROM python:3.11-slim
RUN useradd --create-home --uid 10001 leadsync
WORKDIR /app
COPY pyproject.toml README.md ./
COPY scoring ./scoring
COPY config ./config
COPY connectors ./connectors
COPY sync ./sync
COPY revops ./revops
COPY cli ./cli
COPY sandbox ./sandbox
RUN pip install --no-cache-dir . && rm -rf /root/.cache
USER leadsync
WORKDIR /home/leadsync
EXPOSE 9464
ENTRYPOINT ["leadsync"]
CMD ["run", "--config", "/config/leadsync.yaml"]
