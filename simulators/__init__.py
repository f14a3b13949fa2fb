"""ESP32-class device simulator: boards publishing through the same codecs the ingestor decodes.

climate/weather/events/signals: what the sensors see (seeded NumPy); power: the Li-ion cell; faults and
payloads: what goes out on the wire; board: one board's firmware behaviour; scenario: the fleet as a file;
radio: every board's own MQTT connection driven from one selector loop; pacing: real time, accelerated,
backfill; fleet/load: running it; truth/prediction: the ground truth and what the pipeline must make of it.
"""
