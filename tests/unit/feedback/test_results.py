"""Reading a job's output: job_metadata.json is followed to whatever paths it names."""

from __future__ import annotations

import pytest

from tests.unit.feedback.fakes import write_document_output
from workers.feedback.fakes import InMemoryObjects
from workers.feedback.ports import OutputInvalid
from workers.feedback.results import read_extraction

PREFIX = "s3://fb/bda-output/F-1/1"
TEXT = "The parcel was late. The courier left it in the rain."


def test_the_standard_and_custom_outputs_are_read_from_the_paths_the_metadata_names() -> None:
    # Given an output laid out under folder names no reader could guess, with a blueprint's fields
    objects = InMemoryObjects()
    custom = {
        "summary": "Late, wet parcel.",
        "topics": ["delivery", "courier"],
        "customer_id": "C-9",
        "rating": 2,
        "order_ids": ["ORD-1", "ORD-2"],
        "explanation": {"nested": True},
    }
    metadata = write_document_output(objects, PREFIX, TEXT, custom=custom)
    # When the extraction is read from job_metadata.json
    extraction = read_extraction(objects, metadata)
    # Then the text is the document's, the blueprint's summary, topics and customer win; scalars and lists of
    # scalars are fields, anything deeper is left out
    assert extraction.text == TEXT
    assert extraction.summary == "Late, wet parcel."
    assert extraction.topics == ["delivery", "courier"]
    assert extraction.customer_id == "C-9"
    assert extraction.fields == {"rating": 2, "order_ids": "ORD-1, ORD-2"}


def test_without_custom_output_the_document_summary_is_used() -> None:
    # Given a standard output only
    objects = InMemoryObjects()
    metadata = write_document_output(objects, PREFIX, TEXT)
    # When read
    extraction = read_extraction(objects, metadata)
    # Then the summary is the service's, and no fields or topics are invented
    assert extraction.summary == "The parcel was late."
    assert (extraction.topics, extraction.fields, extraction.customer_id) == ([], {}, None)


def test_an_audio_transcript_is_read_with_its_topics() -> None:
    # Given the standard output of a pre-transcribed call
    objects = InMemoryObjects()
    objects.put_json(
        "s3://fb/out/a/result.json",
        {
            "audio": {
                "summary": "Billing complaint.",
                "topics": [{"topic_index": 0, "summary": "billing"}],
                "transcript": {"representation": {"text": "You charged me twice."}},
            }
        },
    )
    objects.put_json(
        "s3://fb/out/job_metadata.json",
        {"output_metadata": [{"segment_metadata": [{"standard_output_path": "s3://fb/out/a/result.json"}]}]},
    )
    # When read
    extraction = read_extraction(objects, "s3://fb/out/job_metadata.json")
    # Then the transcript is the text
    assert (extraction.text, extraction.summary, extraction.topics) == (
        "You charged me twice.",
        "Billing complaint.",
        ["billing"],
    )


@pytest.mark.parametrize(
    "metadata",
    [
        {"output_metadata": [{"segment_metadata": [{"custom_output_path": "s3://fb/out/c.json"}]}]},
        {"output_metadata": [{"segment_metadata": [{"standard_output_path": "s3://fb/out/missing.json"}]}]},
        {"output_metadata": "not a list"},
    ],
    ids=["no-standard-output", "named-file-missing", "wrong-shape"],
)
def test_metadata_that_breaks_the_layout_is_output_invalid(metadata: object) -> None:
    # Given a job_metadata.json that does not lead to a standard output
    objects = InMemoryObjects()
    objects.put_json("s3://fb/out/job_metadata.json", metadata)
    # When read, then it is refused as invalid output
    with pytest.raises(OutputInvalid):
        read_extraction(objects, "s3://fb/out/job_metadata.json")


def test_a_blueprint_that_found_no_customer_names_none() -> None:
    # Given a blueprint answer whose customer id is empty
    objects = InMemoryObjects()
    metadata = write_document_output(objects, PREFIX, TEXT, custom={"customer_id": "", "language": "en"})
    # When read
    extraction = read_extraction(objects, metadata)
    # Then there is no customer, and the empty answer is not a field
    assert extraction.customer_id is None and extraction.fields == {"language": "en"}
