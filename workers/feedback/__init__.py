"""Customer feedback through Bedrock Data Automation.

Entry (``handler.lambda_handler``): an object created under ``feedback/`` in the feedback bucket (S3 →
EventBridge, default bus) or a ``FeedbackReceived`` event. Short inline text is analysed at once; a document
starts ``statemachines/feedback.asl.json``, whose worker tasks (``handler.task_handler``) start the job and
leave the task token stored under the input object. The job's completion event (``aws.bedrock``, default
bus) reaches ``handler.completion_handler``, which answers the token.

Polling is the state machine's choice, not a schedule: the wait for the event has a timeout
(``FeedbackCompletionTimeoutSeconds``) whose ``States.Timeout`` leads to a poll task and a Wait loop, so a
lost event costs one timeout for that job only, and no job is polled while its event can still come.
"""
