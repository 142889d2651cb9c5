"""Bedrock Data Automation runtime (JSON 1.1, ``X-Amz-Target: AmazonBedrockKeystoneRuntimeService.<Op>``).

InvokeDataAutomationAsync starts a job on a worker thread: it reads the input object from the emulator's S3,
writes the real output layout (``bda_output``) under the output prefix, and, when EventBridge notification is
enabled, puts "Bedrock Data Automation Job Succeeded / Failed With Client Error / Failed With Service Error" on
the default bus. GetDataAutomationStatus reports Created -> InProgress -> Success / ClientError / ServiceError.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from supportflow.bedrock_offline.bda_output import (
    FEEDBACK_BLUEPRINT,
    Blueprint,
    custom_output,
    job_metadata,
    standard_output,
)
from supportflow.bedrock_offline.brain import Brain
from supportflow.bedrock_offline.conversation import BedrockError, validation
from supportflow.bedrock_offline.documents import AUDIO_JSON_SUFFIX, UnreadableInput, read_document
from supportflow.bedrock_offline.emulator_link import (
    ACCOUNT_ID,
    EmulatorLink,
    EmulatorUnavailable,
    ObjectMissing,
    S3Location,
    iso,
    new_id,
    now,
)
from supportflow.bedrock_offline.jobs import EventGate, JobSettings, events_wanted
from supportflow.bedrock_offline.routing import Handler, Request, RequestContext, Response, Router, error_response
from supportflow.bedrock_offline.wire import json_response

log = logging.getLogger(__name__)

TARGET_PREFIX = "AmazonBedrockKeystoneRuntimeService"
DETAIL_TYPES = {
    "Success": "Bedrock Data Automation Job Succeeded",
    "ClientError": "Bedrock Data Automation Job Failed With Client Error",
    "ServiceError": "Bedrock Data Automation Job Failed With Service Error",
}
_EVENT_STATUS = {"Success": "SUCCESS", "ClientError": "CLIENT_ERROR", "ServiceError": "SERVICE_ERROR"}
_ARN = r"arn:aws(|-cn|-iso|-iso-[a-z]|-us-gov):bedrock:[a-zA-Z0-9-]*:"
_PROFILE_ARN = re.compile(_ARN + r"(aws|[0-9]{12}):data-automation-profile/[a-zA-Z0-9-_.]+")
_PROJECT_ARN = re.compile(_ARN + r"(aws|[0-9]{12}):data-automation-project/[a-zA-Z0-9-_]+")
_BLUEPRINT_ARN = re.compile(_ARN + r"(aws|[0-9]{12}):blueprint/[a-zA-Z0-9-_]{1,80}")
_INVOCATION_ARN = re.compile(_ARN + r"[0-9]{12}:data-automation-invocation/([a-zA-Z0-9-_]+)")
_TOKEN = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}")
_S3_URI = re.compile(r"s3://[a-z0-9][\.\-a-z0-9]{1,61}[a-z0-9](/.*)?")
STANDARD_ONLY_PREFIX = "standard"  # a project whose id starts with this has no custom output


@dataclass
class Invocation:
    """One Data Automation job and what GetDataAutomationStatus reports about it."""

    job_id: str
    arn: str
    source: S3Location
    output: S3Location  # <output prefix>/<job id>
    blueprint: Blueprint | None
    notify: bool
    submitted: datetime
    status: str = "Created"
    error_type: str = ""
    error_message: str = ""
    completed: datetime | None = None
    modality: str = "DOCUMENT"
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


class DataAutomationOperations:
    """InvokeDataAutomationAsync and GetDataAutomationStatus over the emulator's S3 and default bus."""

    def __init__(self, brain: Brain, link: EmulatorLink, settings: JobSettings, gate: EventGate) -> None:
        self._brain = brain
        self._link = link
        self.settings = settings
        self._gate = gate
        self._jobs: dict[str, Invocation] = {}
        self._tokens: dict[str, str] = {}
        self._lock = threading.Lock()

    def register(self, router: Router) -> None:
        """Add both JSON 1.1 targets."""
        router.add_target(f"{TARGET_PREFIX}.InvokeDataAutomationAsync", _json_1_1(self.invoke_async))
        router.add_target(f"{TARGET_PREFIX}.GetDataAutomationStatus", _json_1_1(self.get_status))

    def invocations(self) -> list[Invocation]:
        """Every job started on this server, oldest first."""
        with self._lock:
            return sorted(self._jobs.values(), key=lambda job: job.submitted)

    # --- operations ------------------------------------------------------------------------------

    def invoke_async(self, request: Request, context: RequestContext) -> Response:
        """InvokeDataAutomationAsync: validate, start (or find, by clientToken) the job, return its ARN."""
        body = request.json()
        source = _s3_member(body, "inputConfiguration")
        output = _s3_member(body, "outputConfiguration")
        _check(body.get("dataAutomationProfileArn"), _PROFILE_ARN, "dataAutomationProfileArn")
        blueprint = self._blueprint(body)
        token = body.get("clientToken")
        if token is not None:
            _check(token, _TOKEN, "clientToken")
        notify = bool(
            ((body.get("notificationConfiguration") or {}).get("eventBridgeConfiguration") or {}).get(
                "eventBridgeEnabled"
            )
        ) and events_wanted(request.headers)
        with self._lock:
            if token is not None and token in self._tokens:
                return json_response({"invocationArn": self._jobs[self._tokens[token]].arn})
            job_id = new_id()
            job = Invocation(
                job_id=job_id,
                arn=f"arn:aws:bedrock:{self._link.region}:{ACCOUNT_ID}:data-automation-invocation/{job_id}",
                source=source,
                output=output.child(job_id),
                blueprint=blueprint,
                notify=notify,
                submitted=now(),
            )
            self._jobs[job_id] = job
            if token is not None:
                self._tokens[token] = job_id
        threading.Thread(target=self._run, args=(job,), name=f"bda-{job_id[:8]}", daemon=True).start()
        log.info("data automation job started", extra={"job_id": job_id, "custom_output": blueprint is not None})
        return json_response({"invocationArn": job.arn})

    def get_status(self, request: Request, context: RequestContext) -> Response:
        """GetDataAutomationStatus: status, error, the job_metadata.json URI once it succeeded, and times."""
        arn = request.json().get("invocationArn")
        match = _INVOCATION_ARN.fullmatch(arn) if isinstance(arn, str) else None
        if match is None:
            raise validation(f"1 validation error detected: Value '{arn}' at 'invocationArn' is not valid")
        with self._lock:
            job = self._jobs.get(match.group(2))
        if job is None:
            raise BedrockError(400, "ResourceNotFoundException", f"Invocation {arn} not found.")
        with job.lock:
            out: dict[str, Any] = {"status": job.status, "jobSubmissionTime": iso(job.submitted)}
            if job.status == "Success":
                out["outputConfiguration"] = {"s3Uri": job.output.child("job_metadata.json").uri}
            if job.error_type:
                out.update({"errorType": job.error_type, "errorMessage": job.error_message})
            if job.completed is not None:
                out["jobCompletionTime"] = iso(job.completed)
                out["jobDurationInSeconds"] = max(0, round((job.completed - job.submitted).total_seconds()))
        return json_response(out)

    # --- the job ---------------------------------------------------------------------------------

    def _blueprint(self, body: dict[str, Any]) -> Blueprint | None:
        blueprints = body.get("blueprints")
        if blueprints:
            arn = (blueprints[0] or {}).get("blueprintArn") if isinstance(blueprints, list) else None
            _check(arn, _BLUEPRINT_ARN, "blueprints[0].blueprintArn")
            return Blueprint(str(arn), str(arn).rsplit("/", 1)[-1])
        config = body.get("dataAutomationConfiguration")
        if config is None:
            return None
        project = config.get("dataAutomationProjectArn") if isinstance(config, dict) else None
        _check(project, _PROJECT_ARN, "dataAutomationConfiguration.dataAutomationProjectArn")
        if str(project).rsplit("/", 1)[-1].lower().startswith(STANDARD_ONLY_PREFIX):
            return None
        region = self._link.region
        return Blueprint(
            f"arn:aws:bedrock:{region}:aws:blueprint/bedrock-data-automation-public-{FEEDBACK_BLUEPRINT}",
            FEEDBACK_BLUEPRINT,
        )

    def _run(self, job: Invocation) -> None:
        started = time.monotonic()
        time.sleep(self.settings.bda_seconds * 0.2)
        self._set(job, "InProgress")
        if job.source.key.lower().endswith(AUDIO_JSON_SUFFIX):
            job.modality = "AUDIO"
        try:
            self._process(job)
            outcome, error_type, message = "Success", "", ""
        except UnreadableInput as exc:
            outcome, error_type, message = "ClientError", exc.error_type, exc.message
        except ObjectMissing as exc:
            outcome, error_type, message = "ClientError", "InvalidInput", f"S3 object or bucket not found: {exc}"
        except EmulatorUnavailable:
            outcome, error_type, message = "ServiceError", "InternalServerError", "The service could not reach S3."
        except Exception:
            log.exception("data automation job failed", extra={"job_id": job.job_id})
            outcome, error_type, message = "ServiceError", "InternalServerError", "Internal error."
        time.sleep(max(0.0, self.settings.bda_seconds - (time.monotonic() - started)))
        self._set(job, outcome, error_type, message)
        log.info("data automation job ended", extra={"job_id": job.job_id, "status": outcome})
        if job.notify and self._gate.allow():
            self._notify(job)

    def _process(self, job: Invocation) -> None:
        document = read_document(job.source.key, self._link.read(job.source))
        job.modality = document.modality
        standard_at = job.output.child("0", "standard_output", "0", "result.json")
        custom_at = job.output.child("0", "custom_output", "0", "result.json") if job.blueprint else None
        self._put(standard_at, standard_output(document, self._brain, job.source))
        if job.blueprint is not None and custom_at is not None:
            self._put(custom_at, custom_output(document, self._brain, job.blueprint))
        self._put(job.output.child("job_metadata.json"), job_metadata(job.job_id, document, standard_at, custom_at))

    def _put(self, location: S3Location, body: dict[str, Any]) -> None:
        self._link.write(location, json.dumps(body, ensure_ascii=False, indent=2).encode(), "application/json")

    @staticmethod
    def _set(job: Invocation, status: str, error_type: str = "", message: str = "") -> None:
        with job.lock:
            job.status, job.error_type, job.error_message = status, error_type, message
            if status in DETAIL_TYPES:
                job.completed = now()

    def _notify(self, job: Invocation) -> None:
        detail = {
            "job_id": job.job_id,
            "job_status": _EVENT_STATUS[job.status],
            "semantic_modality": job.modality.title(),
            "input_s3_object": {"s3_bucket": job.source.bucket, "name": job.source.key},
            "output_s3_location": {"s3_bucket": job.output.bucket, "name": job.output.key},
            "error_message": job.error_message,
        }
        try:
            self._link.put(DETAIL_TYPES[job.status], detail, [])
        except EmulatorUnavailable:
            # Best effort, as on AWS: the caller's polling fallback still sees the status.
            log.warning("data automation event not delivered", extra={"job_id": job.job_id})


def _json_1_1(handler: Handler) -> Handler:
    """JSON 1.1 clients read the error code from ``__type`` in the body (REST-JSON ones from the header)."""

    def handle(request: Request, context: RequestContext) -> Response:
        try:
            return handler(request, context)
        except BedrockError as exc:
            response = error_response(exc, context.request_id)
            response.body = json.dumps({"__type": exc.error_type, "message": exc.message}).encode()
            response.headers["Content-Type"] = "application/x-amz-json-1.1"
            return response

    return handle


def _check(value: object, pattern: re.Pattern[str], member: str) -> None:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise validation(
            f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: "
            f"Member must satisfy regular expression pattern: {pattern.pattern}"
        )


def _s3_member(body: dict[str, Any], member: str) -> S3Location:
    config = body.get(member)
    uri = config.get("s3Uri") if isinstance(config, dict) else None
    _check(uri, _S3_URI, f"{member}.s3Uri")
    return S3Location.parse(str(uri))
