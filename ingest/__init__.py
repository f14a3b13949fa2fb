"""The ingestor: MQTT in, validated and vectorized batches out to InfluxDB, nothing lost on the way."""
