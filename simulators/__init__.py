"""ESP32-class device simulator: boards publishing through the same codecs the ingestor decodes."""
