# One image runs any SQS worker on ECS Fargate with the code Lambda runs, through the long-polling consumer
# (workers.shared.runtime.consumer). Build: docker build --build-arg WORKER=intake -t supportflow-intake .
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# The same locked runtime dependencies sam build ships (requirements-lambda.txt is exported from uv.lock).
COPY requirements-lambda.txt .
RUN pip install --no-cache-dir --requirement requirements-lambda.txt

COPY workers/ workers/
COPY schemas/ schemas/

# Which worker the container runs; the task definition can still pass --handler to choose another.
ARG WORKER=intake
ENV CONSUMER_HANDLER=workers.${WORKER}.handler.lambda_handler \
    CONSUMER_REPORT_BATCH_ITEM_FAILURES=true

RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin worker
USER 10001

# Exec form: python is PID 1 and gets ECS's SIGTERM itself (it finishes the batch in hand, then exits).
ENTRYPOINT ["python", "-m", "workers.shared.runtime.consumer"]
