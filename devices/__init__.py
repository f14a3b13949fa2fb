"""The shared contract of the pipeline: quantities, payloads, topics, schema. No I/O lives here."""
