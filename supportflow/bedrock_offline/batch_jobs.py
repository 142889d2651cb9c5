"""Bedrock batch inference on the ``bedrock`` control plane (REST-JSON): Create/Get/List/StopModelInvocationJob.

A job reads ``{recordId, modelInput}`` JSONL from the emulator's S3 (one ``.jsonl`` object or every ``.jsonl``
under a prefix), answers each record with the engine InvokeModel (or Converse) uses, and writes
``<output>/<job id>/<input file>.out`` (``modelOutput`` or ``error`` per record) and ``manifest.json.out``.
Each state change is put on the default bus as "Batch Inference Job State Change".

A record whose ``modelInput`` contains ``RECORD_ERROR_MARKER`` anywhere fails with a 500 error, so tests can
force a record-level error without a malformed body (a malformed body fails with 400, as it does on AWS).
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
import secrets
import string
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from supportflow.bedrock_offline.batch_records import Record, RecordResult, answer_record, parse_records
from supportflow.bedrock_offline.conversation import BedrockError, check_model_id, validation
from supportflow.bedrock_offline.emulator_link import (
    ACCOUNT_ID,
    EmulatorLink,
    EmulatorUnavailable,
    ObjectMissing,
    S3Location,
    iso,
    now,
)
from supportflow.bedrock_offline.engine import Engine
from supportflow.bedrock_offline.jobs import EventGate, JobSettings, events_wanted
from supportflow.bedrock_offline.routing import Request, RequestContext, Response, Router
from supportflow.bedrock_offline.wire import json_response

log = logging.getLogger(__name__)

DETAIL_TYPE = "Batch Inference Job State Change"
ACTIVE = frozenset({"Submitted", "Validating", "Scheduled", "InProgress"})
FINAL = frozenset({"Completed", "PartiallyCompleted", "Failed", "Stopped", "Expired"})
_NAME = re.compile(r"[a-zA-Z0-9]{1,63}(-*[a-zA-Z0-9\+\-\.]){0,63}")
_ROLE = re.compile(r"arn:aws(-[^:]+)?:iam::([0-9]{12})?:role/.+")
_TOKEN = re.compile(r"[a-zA-Z0-9]{1,256}(-*[a-zA-Z0-9]){0,256}")
_S3_URI = re.compile(r"s3://[a-z0-9][-.a-z0-9]{1,61}[a-z0-9](/.*)?")
_JOB_ARN = re.compile(r"arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:model-invocation-job/([a-z0-9]{12})")
_ID_ALPHABET = string.ascii_lowercase + string.digits


@dataclass
class BatchJob:
    """One model invocation job: its request, state and counts."""

    job_id: str
    arn: str
    request: dict[str, Any]
    inputs: list[tuple[str, list[str]]]  # (input file name, its non-empty lines)
    notify: bool
    submitted: datetime
    status: str = "Submitted"
    message: str = ""
    modified: datetime | None = None
    ended: datetime | None = None
    counts: dict[str, int] = field(default_factory=dict)
    stop_requested: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def describe(self) -> dict[str, Any]:
        """The GetModelInvocationJob / summary shape."""
        out: dict[str, Any] = {
            "jobArn": self.arn,
            "jobName": self.request["jobName"],
            "modelId": self.request["modelId"],
            "roleArn": self.request["roleArn"],
            "status": self.status,
            "submitTime": iso(self.submitted),
            "lastModifiedTime": iso(self.modified or self.submitted),
            "inputDataConfig": self.request["inputDataConfig"],
            "outputDataConfig": self.request["outputDataConfig"],
            "timeoutDurationInHours": self.request.get("timeoutDurationInHours", 24),
            "modelInvocationType": self.request.get("modelInvocationType", "InvokeModel"),
            **{key: value for key, value in self.counts.items() if key.endswith("RecordCount")},
        }
        for key in ("clientRequestToken",):
            if key in self.request:
                out[key] = self.request[key]
        if self.message:
            out["message"] = self.message
        if self.ended is not None:
            out["endTime"] = iso(self.ended)
        return out


class BatchJobOperations:
    """The four batch-inference operations over the emulator's S3 and default bus."""

    def __init__(self, engine: Engine, link: EmulatorLink, settings: JobSettings, gate: EventGate) -> None:
        self._engine = engine
        self._link = link
        self.settings = settings
        self._gate = gate
        self._jobs: dict[str, BatchJob] = {}
        self._lock = threading.Lock()

    def register(self, router: Router) -> None:
        """Add the REST routes of the ``bedrock`` endpoint's batch operations."""
        job = r"/model-invocation-job/(?P<job_identifier>[^/]+)"
        router.add("POST", r"/model-invocation-job", "CreateModelInvocationJob", self.create)
        router.add("GET", job, "GetModelInvocationJob", self.get)
        router.add("POST", job + "/stop", "StopModelInvocationJob", self.stop)
        router.add("GET", r"/model-invocation-jobs", "ListModelInvocationJobs", self.list_jobs)

    # --- operations ------------------------------------------------------------------------------

    def create(self, request: Request, context: RequestContext) -> Response:
        """CreateModelInvocationJob: validate (including the minimum record count), start, return the ARN."""
        body = request.json()
        _check(body.get("jobName"), _NAME, "jobName")
        _check(body.get("roleArn"), _ROLE, "roleArn")
        model_id = body.get("modelId")
        if not isinstance(model_id, str):
            raise validation("1 validation error detected: Value null at 'modelId' failed to satisfy constraint")
        check_model_id(model_id)
        token = body.get("clientRequestToken")
        if token is not None:
            _check(token, _TOKEN, "clientRequestToken")
        source = S3Location.parse(_uri(body, "inputDataConfig", "s3InputDataConfig"))
        _uri(body, "outputDataConfig", "s3OutputDataConfig")
        with self._lock:
            for existing in self._jobs.values():
                if token is not None and existing.request.get("clientRequestToken") == token:
                    return json_response({"jobArn": existing.arn})
                if existing.request["jobName"] == body["jobName"]:
                    raise BedrockError(400, "ConflictException", f"A job named {body['jobName']} already exists.")
        inputs = self._read_inputs(source)
        total = sum(len(lines) for _, lines in inputs)
        if total < self.settings.batch_min_records:
            raise validation(
                f"The number of records in the input ({total}) is below the minimum of "
                f"{self.settings.batch_min_records} records required for a batch inference job."
            )
        job_id = "".join(secrets.choice(_ID_ALPHABET) for _ in range(12))
        job = BatchJob(
            job_id=job_id,
            arn=f"arn:aws:bedrock:{self._link.region}:{ACCOUNT_ID}:model-invocation-job/{job_id}",
            request=body,
            inputs=inputs,
            notify=events_wanted(request.headers),
            submitted=now(),
        )
        with self._lock:
            self._jobs[job_id] = job
        self._emit(job)
        threading.Thread(target=self._run, args=(job,), name=f"batch-{job_id}", daemon=True).start()
        log.info("batch job submitted", extra={"job_id": job_id, "records": total})
        return json_response({"jobArn": job.arn})

    def get(self, request: Request, context: RequestContext) -> Response:
        """GetModelInvocationJob by ARN or id."""
        job = self._find(context.path_params["job_identifier"])
        with job.lock:
            return json_response(job.describe())

    def stop(self, request: Request, context: RequestContext) -> Response:
        """StopModelInvocationJob: an active job goes Stopping, then Stopped with what it has written."""
        job = self._find(context.path_params["job_identifier"])
        with job.lock:
            if job.status not in ACTIVE:
                raise validation(f"The job is {job.status} and cannot be stopped.")
            job.stop_requested = True
            job.status, job.modified = "Stopping", now()
        self._emit(job)
        return json_response({})

    def list_jobs(self, request: Request, context: RequestContext) -> Response:
        """ListModelInvocationJobs: statusEquals, nameContains, submitTime bounds, sort, maxResults/nextToken."""
        query = {key: values[-1] for key, values in parse_qs(request.query).items()}
        with self._lock:
            jobs = list(self._jobs.values())
        if "statusEquals" in query:
            jobs = [j for j in jobs if j.status == query["statusEquals"]]
        if "nameContains" in query:
            jobs = [j for j in jobs if query["nameContains"] in j.request["jobName"]]
        if "submitTimeAfter" in query:
            jobs = [j for j in jobs if j.submitted > _timestamp(query["submitTimeAfter"])]
        if "submitTimeBefore" in query:
            jobs = [j for j in jobs if j.submitted < _timestamp(query["submitTimeBefore"])]
        jobs.sort(key=lambda j: (j.submitted, j.job_id), reverse=query.get("sortOrder", "Descending") == "Descending")
        size = _max_results(query.get("maxResults"))
        start = _offset(query.get("nextToken"))
        page = jobs[start : start + size]
        out: dict[str, Any] = {"invocationJobSummaries": [self._summary(j) for j in page]}
        if start + size < len(jobs):
            out["nextToken"] = base64.urlsafe_b64encode(str(start + size).encode()).decode()
        return json_response(out)

    @staticmethod
    def _summary(job: BatchJob) -> dict[str, Any]:
        with job.lock:
            return job.describe()

    # --- the job ---------------------------------------------------------------------------------

    def _find(self, identifier: str) -> BatchJob:
        match = _JOB_ARN.fullmatch(identifier)
        job_id = match.group(2) if match else identifier
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise BedrockError(404, "ResourceNotFoundException", f"Job {identifier} not found.")
        return job

    def _read_inputs(self, source: S3Location) -> list[tuple[str, list[str]]]:
        try:
            keys = [source.key] if source.key.endswith(".jsonl") else self._link.list_keys(source)
            keys = [k for k in keys if k.endswith(".jsonl")]
            if not keys:
                raise validation(f"No .jsonl input files found at {source.uri}.")
            files = [(S3Location(source.bucket, k), self._link.read(S3Location(source.bucket, k))) for k in keys]
        except ObjectMissing as exc:
            raise validation(f"The input S3 location {exc} does not exist.") from exc
        except EmulatorUnavailable as exc:
            raise BedrockError(500, "InternalServerException", "The input could not be read.") from exc
        return [(where.name, [ln for ln in raw.decode("utf-8").splitlines() if ln.strip()]) for where, raw in files]

    def _set(self, job: BatchJob, status: str, message: str = "") -> bool:
        """Move to ``status`` unless a stop was requested; False means the job should stop now."""
        with job.lock:
            if job.stop_requested:
                return False
            job.status, job.modified = status, now()
            if message:
                job.message = message
            if status in FINAL:
                job.ended = job.modified
        self._emit(job)
        return True

    def _run(self, job: BatchJob) -> None:
        step = self.settings.batch_step_seconds
        time.sleep(step)
        if not self._set(job, "Validating"):
            return self._finish_stopped(job, [])
        try:
            parsed = [(name, parse_records(lines)) for name, lines in job.inputs]
        except ValueError as exc:
            self._set(job, "Failed", str(exc))
            return None
        time.sleep(step)
        if not self._set(job, "InProgress"):
            return self._finish_stopped(job, [])
        written: list[tuple[str, list[RecordResult]]] = []
        invocation_type = job.request.get("modelInvocationType", "InvokeModel")
        for name, records in parsed:
            results: list[RecordResult] = []
            written.append((name, results))
            for record in records:
                if job.stop_requested:
                    return self._finish_stopped(job, written)
                results.append(self._answer(job, record, invocation_type))
        try:
            self._write(job, written)
        except (ObjectMissing, EmulatorUnavailable) as exc:
            self._set(job, "Failed", f"The output could not be written: {exc}")
            return None
        self._set(job, "Completed")
        log.info("batch job ended", extra={"job_id": job.job_id, **job.counts})
        return None

    def _answer(self, job: BatchJob, record: Record, invocation_type: str) -> RecordResult:
        return answer_record(self._engine, job.request["modelId"], invocation_type, record)

    def _finish_stopped(self, job: BatchJob, written: list[tuple[str, list[RecordResult]]]) -> None:
        try:
            self._write(job, written)
        except (ObjectMissing, EmulatorUnavailable):
            log.warning("stopped batch job's output not written", extra={"job_id": job.job_id})
        with job.lock:
            job.status, job.modified = "Stopped", now()
            job.ended = job.modified
        self._emit(job)

    def _write(self, job: BatchJob, written: list[tuple[str, list[RecordResult]]]) -> None:
        results = [r for _, rs in written for r in rs]
        counts = {
            "totalRecordCount": sum(len(lines) for _, lines in job.inputs),
            "processedRecordCount": len(results),
            "successRecordCount": sum(1 for r in results if r.error is None),
            "errorRecordCount": sum(1 for r in results if r.error is not None),
            "inputTokenCount": sum(r.input_tokens for r in results),
            "outputTokenCount": sum(r.output_tokens for r in results),
        }
        job.counts = counts
        output = S3Location.parse(job.request["outputDataConfig"]["s3OutputDataConfig"]["s3Uri"]).child(job.job_id)
        for name, rows in written:
            body = "".join(json.dumps(r.line(), ensure_ascii=False) + "\n" for r in rows)
            self._link.write(output.child(f"{name}.out"), body.encode(), "application/jsonl")
        self._link.write(output.child("manifest.json.out"), json.dumps(counts).encode(), "application/json")

    def _emit(self, job: BatchJob) -> None:
        if not job.notify or not self._gate.allow():
            return
        with job.lock:
            detail = {
                "version": "0.0",
                "accountId": ACCOUNT_ID,
                "batchJobName": job.request["jobName"],
                "batchJobArn": job.arn,
                "batchModelId": job.request["modelId"],
                "status": job.status,
                "failureMessage": job.message if job.status == "Failed" else "",
                "creationTime": job.submitted.strftime("%b %d, %Y, %I:%M:%S %p"),
            }
        try:
            self._link.put(DETAIL_TYPE, detail, [job.arn])
        except EmulatorUnavailable:
            log.warning("batch job event not delivered", extra={"job_id": job.job_id})


def _check(value: object, pattern: re.Pattern[str], member: str) -> None:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise validation(
            f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: "
            f"Member must satisfy regular expression pattern: {pattern.pattern}"
        )


def _uri(body: dict[str, Any], member: str, inner: str) -> str:
    config = (body.get(member) or {}).get(inner) if isinstance(body.get(member), dict) else None
    uri = config.get("s3Uri") if isinstance(config, dict) else None
    _check(uri, _S3_URI, f"{member}.{inner}.s3Uri")
    return str(uri)


def _max_results(raw: str | None) -> int:
    if raw is None:
        return 1000
    if not raw.isdigit() or not 1 <= int(raw) <= 1000:
        raise validation("1 validation error detected: Value at 'maxResults' must be between 1 and 1000")
    return int(raw)


def _timestamp(raw: str) -> datetime:
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as exc:
        raise validation(f"Invalid timestamp {raw}.") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _offset(token: str | None) -> int:
    if token is None:
        return 0
    try:
        return int(base64.urlsafe_b64decode(token.encode()).decode())
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise validation("The nextToken is invalid.") from exc
